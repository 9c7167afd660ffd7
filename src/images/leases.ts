/**
 * In-flight protection for blobs and snapshots an operation has made but not yet recorded in an
 * image: garbage collection skips anything leased (containerd's leases, in-process only).
 */
export class Leases {
  #counts = new Map<string, number>();

  /** Lease the given names; returns a release function (idempotent). */
  acquire(...names: string[]): () => void {
    for (const n of names) this.#counts.set(n, (this.#counts.get(n) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const n of names) {
        const c = (this.#counts.get(n) ?? 1) - 1;
        if (c <= 0) this.#counts.delete(n); else this.#counts.set(n, c);
      }
    };
  }

  has(name: string): boolean {
    return this.#counts.has(name);
  }
}

/** A group of leases taken during one operation, released together. */
export class LeaseGroup {
  #releases: (() => void)[] = [];
  constructor(private readonly leases: Leases) {}

  add(...names: string[]): void {
    this.#releases.push(this.leases.acquire(...names));
  }

  release(): void {
    for (const r of this.#releases.splice(0)) r();
  }
}
