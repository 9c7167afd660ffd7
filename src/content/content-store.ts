import { createReadStream, statSync, type ReadStream } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from "node:fs/promises";
import { createHash, type Hash } from "node:crypto";
import { join } from "node:path";
import { Writable } from "node:stream";
import {
  cancelled, dataLoss, EngineError, invalidArgument, notFound, unavailable,
} from "../errdefs/index.js";
import { atomicWrite, hexOf, isDigest, sha256, syncDir, type Digest } from "../util/index.js";

export interface Expected { digest?: Digest; size?: number }

/** A resumable ingest. Write to it (it is a Writable), then commit() or abort(). */
export interface ContentWriter extends Writable {
  /** Bytes in the ingest so far (resume a download from here). */
  offset(): number;
  /** containerd-style status: the ref and offset. */
  status(): { ref: string; offset: number };
  /** Flush, verify size and digest (data-loss on mismatch), move the blob into place. Ends the stream if still open. */
  commit(expected?: Expected): Promise<{ digest: Digest; size: number }>;
  /** Drop the ingest and its data. */
  abort(): Promise<void>;
}

const READ_HWM = 1 << 20;

function checkDigest(d: string): asserts d is Digest {
  if (!isDigest(d)) throw invalidArgument(`invalid digest: ${JSON.stringify(d)}`);
}

function notFoundContent(d: string): EngineError {
  return notFound(`content ${d}: not found`);
}

function isEnoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === "ENOENT";
}

/**
 * Content-addressed blob store: blobs/sha256/<hex> and ingest/<sha256(ref)>/{data,ref}.
 * Blobs appear only by rename after verification, so a blob on disk is always complete and correct.
 */
export class ContentStore {
  readonly #root: string;
  readonly #active = new Set<string>();

  private constructor(root: string) {
    this.#root = root;
  }

  static async open(root: string): Promise<ContentStore> {
    await mkdir(join(root, "blobs", "sha256"), { recursive: true });
    await mkdir(join(root, "ingest"), { recursive: true });
    return new ContentStore(root);
  }

  get root(): string {
    return this.#root;
  }

  path(digest: Digest): string {
    checkDigest(digest);
    return join(this.#root, "blobs", "sha256", hexOf(digest));
  }

  #ingestDir(ref: string): string {
    return join(this.#root, "ingest", createHash("sha256").update(ref).digest("hex"));
  }

  /**
   * Open (or resume) the ingest named `ref`. Only one writer per ref at a time (unavailable otherwise).
   * The existing bytes of a resumed ingest are re-hashed so commit() can verify the whole blob.
   */
  async writer(ref: string, opts: { expected?: Expected; signal?: AbortSignal } = {}): Promise<ContentWriter> {
    if (!ref) throw invalidArgument("ingest ref must not be empty");
    opts.signal?.throwIfAborted();
    if (opts.expected?.digest) checkDigest(opts.expected.digest);
    if (this.#active.has(ref)) throw unavailable(`ref ${ref} locked: an ingest is already in progress`);
    this.#active.add(ref);
    try {
      const dir = this.#ingestDir(ref);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "ref"), ref);
      const dataPath = join(dir, "data");
      const hash = createHash("sha256");
      let offset = 0;
      try {
        for await (const chunk of createReadStream(dataPath, { highWaterMark: READ_HWM })) {
          hash.update(chunk as Buffer);
          offset += (chunk as Buffer).length;
        }
      } catch (err) {
        if (!isEnoent(err)) throw err;
      }
      const fh = await open(dataPath, "a");
      const w = new IngestWriter({
        store: this, ref, dir, dataPath, fh, hash, offset, expected: opts.expected,
        release: () => this.#active.delete(ref),
      });
      // An aborted ingest stays on disk for a later resume; only the stream is torn down.
      const signal = opts.signal;
      if (signal) {
        const onAbort = () => w.destroy(cancelled("ingest cancelled"));
        signal.addEventListener("abort", onAbort, { once: true });
        w.once("close", () => signal.removeEventListener("abort", onAbort));
      }
      return w;
    } catch (err) {
      this.#active.delete(ref);
      throw err;
    }
  }

  /** @internal used by IngestWriter.commit */
  async _install(dataPath: string, digest: Digest): Promise<void> {
    const target = this.path(digest);
    // A blob already present is the same bytes (content addressing), so the rename just replaces it.
    await rename(dataPath, target);
    await syncDir(join(this.#root, "blobs", "sha256"));
  }

  /**
   * Move in a file whose bytes the caller has verified to hash to `digest` while producing them (a layer
   * tar unpacked from that very file), instead of writing the same bytes again. Same filesystem only.
   */
  async adopt(file: string, digest: Digest): Promise<void> {
    checkDigest(digest);
    const fh = await open(file, "r");
    try {
      await fh.chmod(0o444);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this._install(file, digest);
  }

  /**
   * Stream a blob. Throws not-found synchronously ("content <digest>: not found") when the blob is missing,
   * so an HTTP handler can answer 404 before sending headers.
   */
  reader(digest: Digest, opts: { start?: number } = {}): ReadStream {
    const p = this.path(digest);
    try {
      statSync(p);
    } catch (err) {
      if (isEnoent(err)) throw notFoundContent(digest);
      throw err;
    }
    const start = opts.start ?? 0;
    if (!Number.isSafeInteger(start) || start < 0) throw invalidArgument(`invalid read offset ${start}`);
    return createReadStream(p, { start, highWaterMark: READ_HWM });
  }

  async info(digest: Digest): Promise<{ digest: Digest; size: number }> {
    try {
      const st = await stat(this.path(digest));
      return { digest, size: st.size };
    } catch (err) {
      if (isEnoent(err)) throw notFoundContent(digest);
      throw err;
    }
  }

  async has(digest: Digest): Promise<boolean> {
    try {
      await stat(this.path(digest));
      return true;
    } catch (err) {
      if (isEnoent(err)) return false;
      throw err;
    }
  }

  async delete(digest: Digest): Promise<void> {
    try {
      await unlink(this.path(digest));
    } catch (err) {
      if (isEnoent(err)) throw notFoundContent(digest);
      throw err;
    }
  }

  async *walk(): AsyncIterable<{ digest: Digest; size: number }> {
    const dir = join(this.#root, "blobs", "sha256");
    const names = await readdir(dir);
    for (const hex of names) {
      const digest = `sha256:${hex}`;
      if (!isDigest(digest)) continue;
      try {
        const st = await stat(join(dir, hex));
        yield { digest, size: st.size };
      } catch (err) {
        if (!isEnoent(err)) throw err;
      }
    }
  }

  /** Store a small blob (config, manifest) in one atomic write. */
  async putBytes(data: Uint8Array | string, expected?: Digest): Promise<{ digest: Digest; size: number }> {
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    const digest = sha256(buf);
    if (expected !== undefined) {
      checkDigest(expected);
      if (expected !== digest) throw dataLoss(`unexpected commit digest ${digest}, expected ${expected}: failed precondition`);
    }
    if (!(await this.has(digest))) await atomicWrite(this.path(digest), buf, 0o444);
    return { digest, size: buf.length };
  }

  /** Read a small blob whole. invalid-argument when it is larger than maxSize (default 16 MiB). */
  async readBytes(digest: Digest, maxSize = 16 << 20): Promise<Buffer> {
    const { size } = await this.info(digest);
    if (size > maxSize) throw invalidArgument(`content ${digest} is too large to read whole (${size} > ${maxSize} bytes)`);
    try {
      return await readFile(this.path(digest));
    } catch (err) {
      if (isEnoent(err)) throw notFoundContent(digest);
      throw err;
    }
  }

  /**
   * Remove ingests not in use by this process whose data is older than olderThanMs (default: all of them),
   * and temp files a crash left among the blobs.
   */
  async sweepIngests(olderThanMs = 0): Promise<void> {
    const base = join(this.#root, "ingest");
    const now = Date.now();
    const blobs = join(this.#root, "blobs", "sha256");
    for (const name of await readdir(blobs)) {
      if (!name.startsWith(".") || !name.endsWith(".tmp")) continue;
      const st = await stat(join(blobs, name)).catch(() => null);
      if (st && now - st.mtimeMs >= Math.max(olderThanMs, 60_000)) await rm(join(blobs, name), { force: true });
    }
    const refs = new Set([...this.#active].map((r) => this.#ingestDir(r)));
    for (const name of await readdir(base)) {
      const dir = join(base, name);
      if (refs.has(dir)) continue;
      let mtime = 0;
      try {
        mtime = (await stat(join(dir, "data"))).mtimeMs;
      } catch {
        mtime = 0;
      }
      if (now - mtime >= olderThanMs) await rm(dir, { recursive: true, force: true });
    }
  }

  /** Refs of the ingests on disk (for status and resumption). */
  async *ingests(): AsyncIterable<{ ref: string; offset: number }> {
    const base = join(this.#root, "ingest");
    for (const name of await readdir(base)) {
      try {
        const ref = await readFile(join(base, name, "ref"), "utf8");
        const st = await stat(join(base, name, "data"));
        yield { ref, offset: st.size };
      } catch (err) {
        if (!isEnoent(err)) throw err;
      }
    }
  }
}

interface IngestInit {
  store: ContentStore;
  ref: string;
  dir: string;
  dataPath: string;
  fh: FileHandle;
  hash: Hash;
  offset: number;
  expected?: Expected;
  release: () => void;
}

class IngestWriter extends Writable implements ContentWriter {
  readonly #s: IngestInit;
  #offset: number;
  #closed = false;
  #done = false;

  constructor(init: IngestInit) {
    super({ highWaterMark: READ_HWM, autoDestroy: false });
    this.#s = init;
    this.#offset = init.offset;
  }

  offset(): number {
    return this.#offset;
  }

  status(): { ref: string; offset: number } {
    return { ref: this.#s.ref, offset: this.#offset };
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#writeAll(chunk).then(() => cb(), cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this.#writeAll(Buffer.concat(chunks.map((c) => c.chunk))).then(() => cb(), cb);
  }

  async #writeAll(buf: Buffer): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.#s.fh.write(buf, off, buf.length - off);
      off += bytesWritten;
    }
    this.#s.hash.update(buf);
    this.#offset += buf.length;
    const max = this.#s.expected?.size;
    if (max !== undefined && this.#offset > max) {
      throw dataLoss(`ingest ${this.#s.ref}: got more than the expected ${max} bytes`);
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Keep the ingest on disk: a later writer() with the same ref resumes it.
    this.#close().then(() => cb(err), (e) => cb(err ?? e));
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#s.fh.close();
    this.#s.release();
  }

  async #ended(): Promise<void> {
    if (this.writableFinished) return;
    if (this.destroyed) throw this.errored ?? unavailable(`ingest ${this.#s.ref} was closed`);
    await new Promise<void>((resolve, reject) => {
      const onFinish = () => { this.off("error", onError); resolve(); };
      const onError = (e: Error) => { this.off("finish", onFinish); reject(e); };
      this.once("finish", onFinish);
      this.once("error", onError);
      if (!this.writableEnded) this.end();
    });
  }

  async commit(expected: Expected = {}): Promise<{ digest: Digest; size: number }> {
    if (this.#done) throw invalidArgument(`ingest ${this.#s.ref} already committed or aborted`);
    if (expected.digest) checkDigest(expected.digest);
    await this.#ended();
    await this.#s.fh.chmod(0o444);
    await this.#s.fh.sync();
    const size = this.#offset;
    const digest: Digest = `sha256:${this.#s.hash.digest("hex")}`;
    await this.#close();
    this.#done = true;
    const want = { ...this.#s.expected, ...stripUndefined(expected) };
    let bad: string | undefined;
    if (want.size !== undefined && want.size !== size) {
      bad = `unexpected commit size ${size}, expected ${want.size}: failed precondition`;
    } else if (want.digest !== undefined && want.digest !== digest) {
      bad = `unexpected commit digest ${digest}, expected ${want.digest}: failed precondition`;
    }
    if (bad) {
      // Verified-bad bytes must never be resumed: drop the ingest.
      await rm(this.#s.dir, { recursive: true, force: true });
      throw dataLoss(bad);
    }
    await this.#s.store._install(this.#s.dataPath, digest);
    await rm(this.#s.dir, { recursive: true, force: true });
    this.destroy();
    return { digest, size };
  }

  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    if (!this.destroyed) this.destroy();
    await new Promise<void>((resolve) => (this.closed ? resolve() : this.once("close", () => resolve())));
    await this.#close();
    await rm(this.#s.dir, { recursive: true, force: true });
  }
}

function stripUndefined(e: Expected): Expected {
  const out: Expected = {};
  if (e.digest !== undefined) out.digest = e.digest;
  if (e.size !== undefined) out.size = e.size;
  return out;
}
