import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { atomicWrite, atomicWriteJson, sha256, type Logger } from "../util/index.js";
import { BlobStore, type UploadSession } from "./blob-store.js";
import { checkName, isSha256, isTag } from "./names.js";
import { ociError } from "./oci-error.js";
import { parseManifest, type ManifestInfo } from "./parse-manifest.js";
import { RwLock } from "./rw-lock.js";
import type { Descriptor } from "../spec/oci-image.js";

export const MAX_MANIFEST_BYTES = 4 << 20;

export interface StoredManifest extends ManifestInfo {
  digest: string;
  size: number;
}

export interface GcResult { blobsDeleted: number; bytesFreed: number; uploadsExpired: number }

export interface GcOptions {
  /** Blobs written or used more recently than this are kept even when unreferenced (a push may be about to reference them). */
  graceMs?: number;
  /** Uploads untouched for this long are dropped. */
  uploadTtlMs?: number;
  signal?: AbortSignal;
}

function isEnoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === "ENOENT";
}

/**
 * The registry's storage: shared blobs, and per repository links to blobs (_layers), manifest revisions
 * (records beside the verbatim bytes, which live among the blobs) and tags.
 * Writes that make a blob reachable share a lock that the GC sweep takes exclusively.
 */
export class RegistryStorage {
  readonly #lock = new RwLock();
  #gcRunning: Promise<GcResult> | null = null;
  /** Manifests written while a GC is marking: their references are marked before the sweep. */
  #dirty: Set<string> | null = null;

  private constructor(readonly root: string, readonly blobs: BlobStore, private readonly logger?: Logger) {}

  static async open(root: string, logger?: Logger): Promise<RegistryStorage> {
    await mkdir(join(root, "repositories"), { recursive: true });
    return new RegistryStorage(root, await BlobStore.open(root), logger);
  }

  #repoDir(name: string): string {
    return join(this.root, "repositories", ...checkName(name).split("/"));
  }

  #link(name: string, digest: string): string {
    return join(this.#repoDir(name), "_layers", digest.slice(7));
  }

  #revision(name: string, digest: string): string {
    return join(this.#repoDir(name), "_manifests", "revisions", `${digest.slice(7)}.json`);
  }

  #tag(name: string, tag: string): string {
    return join(this.#repoDir(name), "_manifests", "tags", tag);
  }

  async repoExists(name: string): Promise<boolean> {
    return (await stat(this.#repoDir(name)).catch(() => null)) !== null;
  }

  // ---- blobs ---------------------------------------------------------------------------------

  /** Size of a blob visible in this repository, or null. */
  async blobSize(name: string, digest: string): Promise<number | null> {
    if (!isSha256(digest)) throw ociError("DIGEST_INVALID", "invalid digest", { digest });
    const linked = await stat(this.#link(name, digest)).catch(() => null);
    if (!linked && !(await this.#isManifestOf(name, digest))) return null;
    const size = await this.blobs.size(digest);
    if (size !== null) this.blobs.touch(digest);
    return size;
  }

  async #isManifestOf(name: string, digest: string): Promise<boolean> {
    return (await stat(this.#revision(name, digest)).catch(() => null)) !== null;
  }

  async #linkBlob(name: string, digest: string): Promise<void> {
    const p = this.#link(name, digest);
    await mkdir(join(p, ".."), { recursive: true });
    await writeFile(p, "");
  }

  async startUpload(name: string): Promise<UploadSession> {
    checkName(name);
    return this.blobs.startUpload(name);
  }

  upload(name: string, uuid: string): Promise<UploadSession> {
    return this.blobs.upload(checkName(name), uuid);
  }

  /** Verify and install an upload as `digest`, visible in its repository. */
  async finishUpload(s: UploadSession, digest: string): Promise<number> {
    return this.#lock.read(async () => {
      const size = await this.blobs.commit(s, digest);
      await this.#linkBlob(s.repo, digest);
      return size;
    });
  }

  /** Single-request upload (POST ?digest= with a body). */
  async putBlob(name: string, digest: string, src: Readable, length?: number): Promise<number> {
    const s = await this.startUpload(name);
    try {
      await this.blobs.append(s, src, length === undefined ? {} : { length });
    } catch (err) {
      await this.blobs.cancel(s);
      throw err;
    }
    return this.finishUpload(s, digest);
  }

  /** Cross-repository mount: true when `from` has the blob (it is now linked into `name`). */
  async mount(name: string, from: string, digest: string): Promise<number | null> {
    checkName(name);
    return this.#lock.read(async () => {
      const size = await this.blobSize(from, digest);
      if (size === null) return null;
      await this.#linkBlob(name, digest);
      return size;
    });
  }

  async deleteBlob(name: string, digest: string): Promise<void> {
    try {
      await stat(this.#link(name, digest));
    } catch {
      throw ociError("BLOB_UNKNOWN", undefined, { digest });
    }
    await rm(this.#link(name, digest), { force: true });
  }

  // ---- manifests -----------------------------------------------------------------------------

  async #readRevision(name: string, digest: string): Promise<StoredManifest | null> {
    try {
      return JSON.parse(await readFile(this.#revision(name, digest), "utf8")) as StoredManifest;
    } catch (err) {
      if (isEnoent(err) || err instanceof SyntaxError) return null;
      throw err;
    }
  }

  async resolveTag(name: string, tag: string): Promise<string | null> {
    try {
      const d = (await readFile(this.#tag(name, tag), "utf8")).trim();
      return isSha256(d) ? d : null;
    } catch (err) {
      if (isEnoent(err)) return null;
      throw err;
    }
  }

  /** The manifest record for a tag or digest. MANIFEST_UNKNOWN (NAME_UNKNOWN for a repository never seen). */
  async manifest(name: string, reference: string): Promise<StoredManifest> {
    let digest: string | null = reference;
    if (!reference.includes(":")) {
      if (!isTag(reference)) throw ociError("TAG_INVALID", "invalid tag", { tag: reference });
      digest = await this.resolveTag(name, reference);
    } else if (!isSha256(reference)) {
      throw ociError("DIGEST_INVALID", "invalid digest", { digest: reference });
    }
    const rec = digest ? await this.#readRevision(name, digest) : null;
    if (!rec) {
      if (!(await this.repoExists(name))) throw ociError("NAME_UNKNOWN", undefined, { name });
      throw ociError("MANIFEST_UNKNOWN", `manifest unknown: ${reference}`, { name, reference });
    }
    if (await this.blobs.size(rec.digest) === null) throw ociError("MANIFEST_UNKNOWN", undefined, { name, reference });
    return rec;
  }

  manifestBytes(digest: string): Promise<Buffer> {
    return this.blobs.readSmall(digest);
  }

  /** Store a manifest under a tag or its digest (plus extra tags). Returns its digest. */
  async putManifest(name: string, reference: string, body: Buffer, contentType: string | undefined, tags: string[] = []): Promise<StoredManifest> {
    checkName(name);
    if (body.length > MAX_MANIFEST_BYTES) throw ociError("MANIFEST_INVALID", "manifest too big", undefined, 413);
    const digest = sha256(body);
    const allTags = [...tags];
    if (reference.includes(":")) {
      if (!isSha256(reference)) throw ociError("DIGEST_INVALID", "invalid digest", { digest: reference });
      if (reference !== digest) throw ociError("DIGEST_INVALID", undefined, { expected: reference, actual: digest });
    } else {
      allTags.unshift(reference);
    }
    for (const t of allTags) if (!isTag(t)) throw ociError("TAG_INVALID", "invalid tag", { tag: t });
    const info = parseManifest(body, contentType);
    return this.#lock.read(async () => {
      const missing: string[] = [];
      for (const b of info.blobs) {
        if ((await this.blobSize(name, b)) === null) missing.push(b);
      }
      const unknownManifests: string[] = [];
      for (const m of info.manifests) {
        if (!(await this.#readRevision(name, m))) unknownManifests.push(m);
      }
      if (missing.length || unknownManifests.length) {
        const first = missing[0] ?? unknownManifests[0]!;
        throw ociError("MANIFEST_BLOB_UNKNOWN", `blob unknown to registry: ${first}`, { digest: first });
      }
      const rec: StoredManifest = { ...info, digest, size: body.length };
      this.#dirty?.add(digest);
      this.blobs.touch(digest);
      await this.blobs.putSmall(digest, body);
      await atomicWriteJson(this.#revision(name, digest), rec);
      for (const t of allTags) await atomicWrite(this.#tag(name, t), digest);
      return rec;
    });
  }

  /** DELETE by tag removes the tag; by digest the manifest and every tag pointing at it. */
  async deleteManifest(name: string, reference: string): Promise<void> {
    if (!reference.includes(":")) {
      if (!(await this.resolveTag(name, reference))) throw ociError("MANIFEST_UNKNOWN", undefined, { name, reference });
      await rm(this.#tag(name, reference), { force: true });
      return;
    }
    if (!isSha256(reference)) throw ociError("DIGEST_INVALID", "invalid digest", { digest: reference });
    if (!(await this.#readRevision(name, reference))) throw ociError("MANIFEST_UNKNOWN", undefined, { name, reference });
    for (const t of await this.tags(name)) {
      if ((await this.resolveTag(name, t)) === reference) await rm(this.#tag(name, t), { force: true });
    }
    await rm(this.#revision(name, reference), { force: true });
  }

  async tags(name: string): Promise<string[]> {
    try {
      return (await readdir(join(this.#repoDir(name), "_manifests", "tags"))).filter((t) => isTag(t)).sort();
    } catch (err) {
      if (isEnoent(err)) {
        if (!(await this.repoExists(name))) throw ociError("NAME_UNKNOWN", undefined, { name });
        return [];
      }
      throw err;
    }
  }

  async *revisions(name: string): AsyncIterable<StoredManifest> {
    let names: string[];
    try {
      names = await readdir(join(this.#repoDir(name), "_manifests", "revisions"));
    } catch (err) {
      if (isEnoent(err)) return;
      throw err;
    }
    for (const f of names) {
      if (!f.endsWith(".json")) continue;
      const rec = await this.#readRevision(name, `sha256:${f.slice(0, -5)}`);
      if (rec) yield rec;
    }
  }

  async referrers(name: string, digest: string, artifactType?: string): Promise<Descriptor[]> {
    if (!isSha256(digest)) throw ociError("DIGEST_INVALID", "invalid digest", { digest });
    const out: Descriptor[] = [];
    for await (const rec of this.revisions(name)) {
      if (rec.subject?.digest !== digest) continue;
      if (artifactType !== undefined && rec.artifactType !== artifactType) continue;
      const d: Descriptor = { mediaType: rec.mediaType, digest: rec.digest, size: rec.size };
      if (rec.artifactType) d.artifactType = rec.artifactType;
      if (rec.annotations) d.annotations = rec.annotations;
      out.push(d);
    }
    return out.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  }

  /** Repositories with at least one manifest (all: also those with only blobs). */
  async catalog(all = false): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, prefix: string[]) => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      if (entries.some((e) => e.name === "_manifests" || (all && e.name === "_layers"))) out.push(prefix.join("/"));
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith("_")) await walk(join(dir, e.name), [...prefix, e.name]);
      }
    };
    await walk(join(this.root, "repositories"), []);
    return out.sort();
  }

  // ---- garbage collection --------------------------------------------------------------------

  /** Mark every blob reachable from a manifest revision, sweep the rest. Runs while serving. */
  gc(opts: GcOptions = {}): Promise<GcResult> {
    if (!this.#gcRunning) {
      this.#gcRunning = this.#gc(opts).finally(() => { this.#gcRunning = null; this.#dirty = null; });
    }
    return this.#gcRunning;
  }

  async #gc(opts: GcOptions): Promise<GcResult> {
    const graceMs = opts.graceMs ?? 10 * 60_000;
    const started = Date.now();
    this.#dirty = new Set();
    const marked = new Set<string>();
    const repos = await this.catalog();
    const markRecord = (rec: StoredManifest) => {
      marked.add(rec.digest);
      for (const b of rec.blobs) marked.add(b);
    };
    for (const repo of repos) {
      opts.signal?.throwIfAborted();
      for await (const rec of this.revisions(repo)) markRecord(rec);
    }
    const uploadsExpired = await this.blobs.expireUploads(opts.uploadTtlMs ?? 24 * 3600_000);
    return this.#lock.write(async () => {
      // Manifests written during the mark phase reference blobs that must survive.
      for (const d of this.#dirty ?? []) {
        marked.add(d);
        for (const repo of repos) {
          const rec = await this.#readRevision(repo, d).catch(() => null);
          if (rec) markRecord(rec);
        }
      }
      const cutoff = Math.min(started, Date.now()) - graceMs;
      let blobsDeleted = 0;
      let bytesFreed = 0;
      const deleted = new Set<string>();
      for await (const b of this.blobs.walk()) {
        if (marked.has(b.digest)) continue;
        if (b.mtimeMs >= cutoff || this.blobs.lastTouched(b.digest) >= cutoff) continue;
        bytesFreed += (await this.blobs.size(b.digest)) ?? 0;
        await this.blobs.delete(b.digest);
        deleted.add(b.digest);
        blobsDeleted++;
      }
      for (const repo of await this.catalog(true)) {
        const dir = join(this.#repoDir(repo), "_layers");
        for (const hex of await readdir(dir).catch(() => [] as string[])) {
          if (deleted.has(`sha256:${hex}`)) await rm(join(dir, hex), { force: true });
        }
      }
      this.blobs.forgetTouchesBefore(cutoff);
      if (blobsDeleted) this.logger?.info("garbage collection", { blobsDeleted, bytesFreed, uploadsExpired });
      return { blobsDeleted, bytesFreed, uploadsExpired };
    });
  }
}
