import { createHash, randomUUID, type Hash } from "node:crypto";
import { createReadStream, type ReadStream } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { atomicWrite, syncDir } from "../util/index.js";
import { ociError } from "./oci-error.js";

export interface UploadSession {
  readonly uuid: string;
  readonly repo: string;
  readonly dir: string;
  size: number;
  hash: Hash;
  busy: boolean;
  startedAt: string;
}

const WRITE_BATCH = 1 << 20;

function isEnoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === "ENOENT";
}

/**
 * Blobs shared by every repository (blobs/sha256/<hex>) and upload sessions (_uploads/<uuid>/data).
 * A blob appears only by rename after its digest was verified, so a visible blob is always whole and correct.
 */
export class BlobStore {
  readonly #root: string;
  readonly #sessions = new Map<string, UploadSession>();
  readonly #touched = new Map<string, number>();

  private constructor(root: string) {
    this.#root = root;
  }

  static async open(root: string): Promise<BlobStore> {
    await mkdir(join(root, "blobs", "sha256"), { recursive: true });
    await mkdir(join(root, "_uploads"), { recursive: true });
    const store = new BlobStore(root);
    for (const name of await readdir(join(root, "blobs", "sha256"))) {
      if (name.startsWith(".")) await rm(join(root, "blobs", "sha256", name), { force: true });
    }
    return store;
  }

  path(digest: string): string {
    return join(this.#root, "blobs", "sha256", digest.slice("sha256:".length));
  }

  /** Size of a stored blob, or null. */
  async size(digest: string): Promise<number | null> {
    try {
      return (await stat(this.path(digest))).size;
    } catch (err) {
      if (isEnoent(err)) return null;
      throw err;
    }
  }

  /** Mark a blob as just used (HEAD, mount, upload), so garbage collection spares it for a grace period. */
  touch(digest: string): void {
    this.#touched.set(digest, Date.now());
  }

  lastTouched(digest: string): number {
    return this.#touched.get(digest) ?? 0;
  }

  forgetTouchesBefore(ms: number): void {
    for (const [d, t] of this.#touched) if (t < ms) this.#touched.delete(d);
  }

  reader(digest: string, range?: { start: number; end: number }): ReadStream {
    return createReadStream(this.path(digest), { ...(range ?? {}), highWaterMark: 1 << 20 });
  }

  async readSmall(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.path(digest));
    } catch (err) {
      if (isEnoent(err)) throw ociError("BLOB_UNKNOWN", undefined, { digest });
      throw err;
    }
  }

  async putSmall(digest: string, data: Buffer): Promise<void> {
    if ((await this.size(digest)) === data.length) return;
    await atomicWrite(this.path(digest), data, 0o444);
  }

  async delete(digest: string): Promise<void> {
    await rm(this.path(digest), { force: true });
  }

  async *walk(): AsyncIterable<{ digest: string; mtimeMs: number }> {
    const dir = join(this.#root, "blobs", "sha256");
    for (const hex of await readdir(dir)) {
      if (!/^[a-f0-9]{64}$/.test(hex)) continue;
      const st = await stat(join(dir, hex)).catch(() => null);
      if (st) yield { digest: `sha256:${hex}`, mtimeMs: st.mtimeMs };
    }
  }

  // ---- uploads -------------------------------------------------------------------------------

  async startUpload(repo: string): Promise<UploadSession> {
    const uuid = randomUUID();
    const dir = join(this.#root, "_uploads", uuid);
    await mkdir(dir, { recursive: true });
    const startedAt = new Date().toISOString();
    await writeFile(join(dir, "info.json"), JSON.stringify({ repo, startedAt }));
    await writeFile(join(dir, "data"), "");
    const s: UploadSession = { uuid, repo, dir, size: 0, hash: createHash("sha256"), busy: false, startedAt };
    this.#sessions.set(uuid, s);
    return s;
  }

  /** An upload of this repository; reloaded (and re-hashed) from disk after a restart. */
  async upload(repo: string, uuid: string): Promise<UploadSession> {
    const unknown = () => ociError("BLOB_UPLOAD_UNKNOWN", undefined, { uuid });
    if (!/^[a-f0-9-]{36}$/.test(uuid)) throw unknown();
    let s = this.#sessions.get(uuid);
    if (!s) {
      const dir = join(this.#root, "_uploads", uuid);
      let info: { repo: string; startedAt: string };
      try {
        info = JSON.parse(await readFile(join(dir, "info.json"), "utf8")) as { repo: string; startedAt: string };
      } catch {
        throw unknown();
      }
      const hash = createHash("sha256");
      let size = 0;
      for await (const c of createReadStream(join(dir, "data"), { highWaterMark: 1 << 20 })) {
        hash.update(c as Buffer);
        size += (c as Buffer).length;
      }
      s = this.#sessions.get(uuid) ?? { uuid, repo: info.repo, dir, size, hash, busy: false, startedAt: info.startedAt };
      this.#sessions.set(uuid, s);
    }
    if (s.repo !== repo) throw unknown();
    return s;
  }

  /** Append a request body to an upload. `start` (from Content-Range) must be the current size. */
  async append(s: UploadSession, src: Readable, opts: { start?: number; length?: number } = {}): Promise<void> {
    if (s.busy) throw ociError("BLOB_UPLOAD_INVALID", "upload is busy with another request", undefined, 416);
    if (opts.start !== undefined && opts.start !== s.size) {
      throw ociError("RANGE_INVALID", `chunk starts at ${opts.start}, upload has ${s.size} bytes`, undefined, 416);
    }
    s.busy = true;
    const fh = await open(join(s.dir, "data"), "a");
    let got = 0;
    try {
      let batch: Buffer[] = [];
      let batched = 0;
      const flush = async () => {
        if (batched === 0) return;
        const bufs = batch;
        batch = [];
        batched = 0;
        await fh.writev(bufs);
        for (const b of bufs) s.hash.update(b);
        for (const b of bufs) s.size += b.length;
      };
      for await (const chunk of src) {
        const b = chunk as Buffer;
        got += b.length;
        batch.push(b);
        batched += b.length;
        if (batched >= WRITE_BATCH) await flush();
      }
      await flush();
    } finally {
      await fh.close();
      s.busy = false;
    }
    if (opts.length !== undefined && got !== opts.length) {
      throw ociError("SIZE_INVALID", `received ${got} bytes, Content-Length was ${opts.length}`);
    }
  }

  /** Verify the upload against `digest` and make it a blob. On mismatch the upload is dropped. */
  async commit(s: UploadSession, digest: string): Promise<number> {
    if (s.busy) throw ociError("BLOB_UPLOAD_INVALID", "upload is busy with another request", undefined, 416);
    const actual = `sha256:${s.hash.copy().digest("hex")}`;
    if (actual !== digest) {
      await this.cancel(s);
      throw ociError("DIGEST_INVALID", undefined, { expected: digest, actual });
    }
    s.busy = true;
    const data = join(s.dir, "data");
    const fh = await open(data, "r+");
    try {
      await fh.chmod(0o444);
      await fh.sync();
    } finally {
      await fh.close();
    }
    // The data file's mtime (its last write) is recent, which is what protects a new blob from GC.
    await rename(data, this.path(digest));
    await syncDir(join(this.#root, "blobs", "sha256"));
    this.#sessions.delete(s.uuid);
    await rm(s.dir, { recursive: true, force: true });
    return s.size;
  }

  async cancel(s: UploadSession): Promise<void> {
    this.#sessions.delete(s.uuid);
    await rm(s.dir, { recursive: true, force: true });
  }

  /** Drop uploads untouched for olderThanMs that no request is using. */
  async expireUploads(olderThanMs: number): Promise<number> {
    const base = join(this.#root, "_uploads");
    const now = Date.now();
    let n = 0;
    for (const uuid of await readdir(base)) {
      if (this.#sessions.get(uuid)?.busy) continue;
      const st = await stat(join(base, uuid, "data")).catch(() => null);
      if (st && now - st.mtimeMs < olderThanMs) continue;
      this.#sessions.delete(uuid);
      await rm(join(base, uuid), { recursive: true, force: true });
      n++;
    }
    return n;
  }

  /** Digests of uploads still in progress are unknown, so GC protects blobs by recency instead. */
  activeUploads(): number {
    return this.#sessions.size;
  }
}
