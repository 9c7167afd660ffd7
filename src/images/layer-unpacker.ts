/**
 * Unpack one uncompressed layer tar into a committed snapshot named by its chain id, storing the
 * tar itself as a blob (digest = diff id) in the same pass. Nothing half-made survives a failure.
 */
import { randomBytes } from "node:crypto";
import { rename, rmdir } from "node:fs/promises";
import { Transform, type Readable, type TransformCallback, type Writable } from "node:stream";
import { cancelled, dataLoss, isKind } from "../errdefs/index.js";
import type { ContentStore, ContentWriter } from "../content/index.js";
import type { Snapshotter } from "../snapshots/snapshotter.js";
import type { Digest } from "../util/index.js";
import { applyLayer } from "./layer/index.js";
import { chainIdOf } from "./chain-id.js";
import type { LeaseGroup } from "./leases.js";

export interface UnpackDeps {
  content: ContentStore;
  snapshotter: Snapshotter;
}

export interface UnpackOptions {
  parentChain: string | null;
  /** When known (load, pull), the tar must hash to this or the unpack fails with data-loss. */
  expectedDiffId?: string;
  /** Also store the tar as a blob (skip when the same bytes are already a blob). Default true. */
  storeBlob?: boolean;
  /**
   * A file on the content store's filesystem holding exactly the bytes of `src` (a pull's spool): once they
   * verify, it is moved in as the blob rather than written again.
   */
  blobFile?: string;
  /**
   * The tar's digest as the producer of `src` computed it (a pull's worker), read once src has ended cleanly;
   * then src is not hashed again. The producer must not end src cleanly unless that digest covers every byte.
   */
  knownDiffId?: () => Digest | undefined;
  /** Protect what gets made from GC until the caller has recorded it. */
  leases: LeaseGroup;
  /** Message for a diff id mismatch (Docker: "invalid diffID for layer <i>: ..."). */
  label?: string;
  signal?: AbortSignal;
}

export interface UnpackResult {
  diffId: Digest;
  chainId: Digest;
  size: number;                 // bytes of the layer tar
  createdSnapshot: boolean;     // false when the chain id already existed
  createdBlob: boolean;
}

/** True when the layer with this chain id is unpacked (and its blob stored). */
export async function layerPresent(deps: UnpackDeps, chainId: string, diffId: string): Promise<boolean> {
  if (!(await deps.content.has(diffId as Digest))) return false;
  try {
    const info = await deps.snapshotter.stat(chainId);
    return info.kind === "committed";
  } catch (err) {
    if (isKind(err, "not-found")) return false;
    throw err;
  }
}

export async function unpackLayer(deps: UnpackDeps, src: Readable, opts: UnpackOptions): Promise<UnpackResult> {
  const { content, snapshotter } = deps;
  const key = `extract-${randomBytes(8).toString("hex")}`;
  const storeBlob = opts.storeBlob ?? true;
  let writer: ContentWriter | null = null;
  let prepared = false;
  const onAbort = () => src.destroy(cancelled());
  // The source may fail while the snapshot is being prepared: keep that error for later.
  let early: Error | null = null;
  const onEarly = (e: Error) => { early ??= e; };
  src.on("error", onEarly);
  if (opts.signal?.aborted) throw cancelled();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await snapshotter.prepare(key, opts.parentChain, { labels: { "berth.extract": "true" } });
    prepared = true;
    if (storeBlob && !opts.blobFile) writer = await content.writer(`layer-${key}`);
    if (early) throw early;
    const tap = new SideWrite(writer);
    src.on("error", (e) => tap.destroy(e));
    src.pipe(tap);
    // applyLayer hashes the whole tar in flight; the content writer verifies the same bytes at commit.
    const { diffId, tarSize: size } = await applyLayer(tap, await snapshotter.dir(key), {
      lowerDirs: await snapshotter.parentDirs(key), ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.knownDiffId ? { knownDigest: opts.knownDiffId } : {}),
    });
    if (opts.expectedDiffId !== undefined && opts.expectedDiffId !== diffId) {
      throw dataLoss(`${opts.label ?? "invalid diffID for layer"}: expected ${opts.expectedDiffId}, got ${diffId}`);
    }
    const chainId = chainIdOf(opts.parentChain, diffId);
    opts.leases.add(chainId, diffId);

    let createdBlob = false;
    if (storeBlob && opts.blobFile && !(await content.has(diffId))) {
      await content.adopt(opts.blobFile, diffId);
      createdBlob = true;
    }
    if (writer) {
      if (await commitBlobOnce(content, writer, diffId, size)) createdBlob = true;
      writer = null;
    }

    let createdSnapshot = false;
    if (await snapshotExists(snapshotter, chainId)) await snapshotter.remove(key);
    else createdSnapshot = await commitSnapshotOnce(snapshotter, chainId, key);
    prepared = false;
    return { diffId, chainId, size, createdSnapshot, createdBlob };
  } catch (err) {
    src.destroy();
    if (writer) await writer.abort().catch(() => {});
    if (prepared) await snapshotter.remove(key).catch(() => {});
    throw opts.signal?.aborted ? cancelled() : err;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

/** A layer already applied into a directory of its own (`dir`), before its parents were snapshots. */
export interface ExtractedLayer {
  /** On the snapshotter's filesystem; moved whole into the layer's snapshot. */
  dir: string;
  diffId: Digest;
  /** Bytes of the layer tar. */
  size: number;
  /** A file on the content store's filesystem holding exactly the tar (moved in as the blob unless present). */
  blobFile?: string;
}

/**
 * Finish a layer applied ahead of its parents (a pull applying layers in parallel): check its diff id, then
 * move its tree into a snapshot of the right parent and commit that as the chain id. The applied tree is
 * the same as unpackLayer would write on top of the parents, because the apply asked for the parents' dirs
 * whenever an entry depended on them. `layer.dir` is gone on success (or left alone when the chain id
 * exists already); on failure the caller removes it.
 */
export async function commitExtracted(
  deps: UnpackDeps, layer: ExtractedLayer,
  opts: { parentChain: string | null; expectedDiffId?: string; leases: LeaseGroup; label?: string },
): Promise<UnpackResult> {
  const { content, snapshotter } = deps;
  const { diffId, size } = layer;
  if (opts.expectedDiffId !== undefined && opts.expectedDiffId !== diffId) {
    throw dataLoss(`${opts.label ?? "invalid diffID for layer"}: expected ${opts.expectedDiffId}, got ${diffId}`);
  }
  const chainId = chainIdOf(opts.parentChain, diffId);
  opts.leases.add(chainId, diffId);
  let createdBlob = false;
  if (layer.blobFile && !(await content.has(diffId))) {
    await content.adopt(layer.blobFile, diffId);
    createdBlob = true;
  }
  let createdSnapshot = false;
  if (!(await snapshotExists(snapshotter, chainId))) {
    const key = `extract-${randomBytes(8).toString("hex")}`;
    await snapshotter.prepare(key, opts.parentChain, { labels: { "berth.extract": "true" } });
    try {
      // Same filesystem (the caller's promise): the rename moves the tree whole, as an overlay upper dir.
      const target = await snapshotter.dir(key);
      await rmdir(target);
      await rename(layer.dir, target);
      createdSnapshot = await commitSnapshotOnce(snapshotter, chainId, key);
    } catch (err) {
      await snapshotter.remove(key).catch(() => {});
      throw err;
    }
  }
  return { diffId, chainId, size, createdSnapshot, createdBlob };
}

/** Commits the blob unless the store has it already (then the writer is dropped). True when this call stored it. */
export async function commitBlobOnce(content: ContentStore, writer: ContentWriter, diffId: Digest, size: number): Promise<boolean> {
  if (await content.has(diffId)) {
    await writer.abort();
    return false;
  }
  await writer.commit({ digest: diffId, size });
  return true;
}

/**
 * Commits the active snapshot `key` as `chainId`; when another writer committed that chain first, the key is
 * removed instead. True when this call made the layer.
 */
export async function commitSnapshotOnce(s: Snapshotter, chainId: string, key: string): Promise<boolean> {
  try {
    await s.commit(chainId, key);
    return true;
  } catch (err) {
    if (!isKind(err, "already-exists")) throw err;
    await s.remove(key);
    return false;
  }
}

async function snapshotExists(s: Snapshotter, name: string): Promise<boolean> {
  try {
    await s.stat(name);
    return true;
  } catch (err) {
    if (isKind(err, "not-found")) return false;
    throw err;
  }
}

/** Pass-through that also writes every chunk to `target`, honouring its back-pressure. */
class SideWrite extends Transform {
  constructor(private readonly target: Writable | null) {
    super();
    target?.on("error", (e) => this.destroy(e));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.target || this.target.write(chunk)) cb(null, chunk);
    else this.target.once("drain", () => cb(null, chunk));
  }
}
