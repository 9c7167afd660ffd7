import { Transform, type TransformCallback } from "node:stream";
import { constants, createGzip, deflateRawSync, type Gzip } from "node:zlib";

const WINDOW = 4 << 20;
const SAMPLE = 32 << 10;
const INCOMPRESSIBLE = 0.97;

/**
 * gzip that stops spending CPU on data that does not compress. The input is cut into 4 MiB windows, each
 * written as its own gzip member (RFC 1952 allows several; Go's, zlib's and Node's readers read them as one
 * stream). Each window's level comes from a 32 KiB sample of its start: stored (level 0) when the sample does
 * not compress. Random or already-compressed layers push at disk speed; text still compresses. (zlib's deflateParams could switch levels in one member, but Node's zlib does not get
 * faster that way.)
 */
export class AdaptiveGzip extends Transform {
  readonly #level: number;
  #current: number;
  #member: Gzip | null = null;
  #memberDone: Promise<void> = Promise.resolve();
  #inWin = 0;

  constructor(level = constants.Z_BEST_SPEED) {
    super({ highWaterMark: 1 << 20 });
    this.#level = level;
    this.#current = level;
  }

  #open(first: Buffer): Gzip {
    const sample = first.subarray(0, SAMPLE);
    this.#current = sample.length >= 1024 && deflateRawSync(sample, { level: 1 }).length > sample.length * INCOMPRESSIBLE ? 0 : this.#level;
    const gz = createGzip({ level: this.#current, chunkSize: 1 << 20 });
    gz.on("data", (c: Buffer) => this.push(c));
    this.#memberDone = new Promise((resolve, reject) => {
      gz.once("end", resolve);
      gz.once("error", reject);
    });
    this.#member = gz;
    return gz;
  }

  async #close(): Promise<void> {
    const gz = this.#member;
    if (!gz) return;
    this.#member = null;
    gz.end();
    await this.#memberDone;
    this.#inWin = 0;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const gz = this.#member ?? this.#open(chunk);
    this.#inWin += chunk.length;
    const next = () => (this.#inWin >= WINDOW ? this.#close().then(() => cb(), cb) : cb());
    if (gz.write(chunk)) next();
    else gz.once("drain", next);
  }

  override _flush(cb: TransformCallback): void {
    if (!this.#member) this.#open(Buffer.alloc(0));
    this.#close().then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.#member?.destroy();
    cb(err);
  }
}
