import { open, rm, type FileHandle } from "node:fs/promises";
import { Readable, Writable } from "node:stream";
import { cancelled } from "../errdefs/index.js";
import type { Digest } from "../util/index.js";

const CHUNK = 1 << 20;

/**
 * A temp file written once and read while it is written: the reader follows the writer and ends only
 * when the writer has finished cleanly (finish()), so a consumer sees the bytes as they arrive but a clean
 * end only for a stream whose producer verified it. Lets parallel downloads run ahead of an extraction
 * that must go in layer order, with memory bounded by the stream buffers.
 */
export class SpoolFile {
  #written = 0;
  #state: "writing" | "done" | "failed" = "writing";
  #error: Error | null = null;
  #wake: (() => void)[] = [];

  private constructor(readonly path: string, readonly fh: FileHandle) {}

  static async create(path: string): Promise<SpoolFile> {
    return new SpoolFile(path, await open(path, "wx+", 0o600));
  }

  get written(): number {
    return this.#written;
  }

  /** The write side. End it, then call finish() once the producer has verified everything it wrote. */
  writable(): Writable {
    return new Writable({
      highWaterMark: CHUNK,
      write: (chunk: Buffer, _enc, cb) => { this.#append(chunk).then(() => cb(), cb); },
      writev: (chunks, cb) => { this.#append(Buffer.concat(chunks.map((c) => c.chunk as Buffer))).then(() => cb(), cb); },
    });
  }

  async #append(buf: Buffer): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, off, buf.length - off, this.#written + off);
      off += bytesWritten;
    }
    this.#written += buf.length;
    this.#notify();
  }

  /** For a writer outside this object (another thread writing to fh.fd): the file now holds `total` bytes. */
  wrote(total: number): void {
    if (total <= this.#written) return;
    this.#written = total;
    this.#notify();
  }

  /** The digest of the whole file, when the writer computed it (given to finish()). */
  digest: Digest | undefined;

  finish(digest?: Digest): void {
    if (this.#state !== "writing") return;
    this.digest = digest;
    this.#state = "done";
    this.#notify();
  }

  fail(err: Error): void {
    if (this.#state !== "writing") return;
    this.#state = "failed";
    this.#error = err;
    this.#notify();
  }

  #notify(): void {
    for (const w of this.#wake.splice(0)) w();
  }

  /** Everything written so far and to come; errors when the writer fails, ends when it finished. */
  reader(signal?: AbortSignal): Readable {
    let pos = 0;
    const self = this;
    async function* chunks(): AsyncGenerator<Buffer> {
      for (;;) {
        if (signal?.aborted) throw cancelled();
        if (self.#state === "failed") throw self.#error!;
        if (pos < self.#written) {
          const buf = Buffer.allocUnsafe(Math.min(CHUNK, self.#written - pos));
          const { bytesRead } = await self.fh.read(buf, 0, buf.length, pos);
          if (bytesRead === 0) throw new Error(`spool file ${self.path} shrank`);
          pos += bytesRead;
          yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
          continue;
        }
        if (self.#state === "done") return;
        await new Promise<void>((resolve) => self.#wake.push(resolve));
      }
    }
    return Readable.from(chunks(), { objectMode: false, highWaterMark: CHUNK });
  }

  /** Close and delete; wakes any reader with an error if the writer never finished. */
  async dispose(): Promise<void> {
    this.fail(cancelled("download discarded"));
    await this.fh.close().catch(() => {});
    await rm(this.path, { force: true });
  }
}
