/** Many readers or one writer; writers are not starved (new readers queue behind a waiting writer). */
export class RwLock {
  #readers = 0;
  #writer = false;
  #queue: { write: boolean; go: () => void }[] = [];

  async read<T>(fn: () => Promise<T>): Promise<T> {
    await this.#acquire(false);
    try { return await fn(); } finally { this.#readers--; this.#drain(); }
  }

  async write<T>(fn: () => Promise<T>): Promise<T> {
    await this.#acquire(true);
    try { return await fn(); } finally { this.#writer = false; this.#drain(); }
  }

  #acquire(write: boolean): Promise<void> {
    if (this.#queue.length === 0 && !this.#writer && (!write || this.#readers === 0)) {
      if (write) this.#writer = true; else this.#readers++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#queue.push({ write, go: resolve }));
  }

  #drain(): void {
    while (this.#queue.length > 0 && !this.#writer) {
      const next = this.#queue[0]!;
      if (next.write) {
        if (this.#readers > 0) return;
        this.#queue.shift();
        this.#writer = true;
        next.go();
        return;
      }
      this.#queue.shift();
      this.#readers++;
      next.go();
    }
  }
}
