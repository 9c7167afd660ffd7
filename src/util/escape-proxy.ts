import { Transform, type TransformCallback } from "node:stream";

/** ctrl-p,ctrl-q: Docker's default detach sequence. */
export const DEFAULT_DETACH_KEYS = [0x10, 0x11];

/**
 * Docker's detach-keys syntax ("ctrl-p,ctrl-q", "ctrl-x,x", "a,b"): each key a single character or ctrl-<c> with c in
 * a-z, @, [, \, ], ^, _. Empty means the default. Throws with Docker's message.
 */
export function parseDetachKeys(spec: string | undefined): number[] {
  if (!spec) return DEFAULT_DETACH_KEYS;
  const out: number[] = [];
  for (const key of spec.split(",")) {
    const k = key.trim().toLowerCase();
    if (k.length === 1) { out.push(k.charCodeAt(0)); continue; }
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(k);
    if (!m) throw new Error(`Invalid detach keys (${spec}) provided`);
    const c = m[1]!;
    out.push(c >= "a" && c <= "z" ? c.charCodeAt(0) - 0x60 : ({ "@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, _: 31 } as Record<string, number>)[c]!);
  }
  return out;
}

/**
 * Passes input through until the detach sequence is typed: a partial match is held back (and let through when the
 * next byte breaks it), a full one is swallowed, "detach" is emitted and the stream ends without passing it on.
 */
export class EscapeProxy extends Transform {
  #matched = 0;
  #done = false;

  constructor(readonly keys: number[] = DEFAULT_DETACH_KEYS) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.#done) { cb(); return; }
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.#matched]) {
        this.#matched++;
        if (this.#matched === this.keys.length) {
          if (out.length) this.push(Buffer.from(out));
          this.#done = true;
          this.emit("detach");
          this.push(null);
          cb();
          return;
        }
        continue;
      }
      if (this.#matched) { out.push(...this.keys.slice(0, this.#matched)); this.#matched = 0; }
      if (b === this.keys[0]) { this.#matched = 1; continue; }
      out.push(b);
    }
    if (out.length) this.push(Buffer.from(out));
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (!this.#done && this.#matched) this.push(Buffer.from(this.keys.slice(0, this.#matched)));
    cb();
  }
}
