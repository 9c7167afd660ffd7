/**
 * Garbage collection: a committed layer snapshot or blob goes only when no image references it and
 * no in-flight operation leases it. Containers' active snapshots are children of image layers, so
 * the snapshotter's conflict keeps those layers alive.
 */
import { isKind } from "../errdefs/index.js";
import type { ContentStore } from "../content/index.js";
import type { Snapshotter } from "../snapshots/snapshotter.js";
import type { Digest } from "../util/index.js";
import { chainIds } from "./chain-id.js";
import type { ImageStore } from "./image-store.js";
import type { Leases } from "./leases.js";
import type { ImageConfig } from "../spec/oci-image.js";

export interface GcDeps {
  content: ContentStore;
  snapshotter: Snapshotter;
  store: ImageStore;
  leases: Leases;
  config(id: string): Promise<ImageConfig>;
}

export interface GcResult {
  snapshots: string[];                          // removed chain ids, top of each chain first
  blobs: { digest: string; size: number }[];    // removed blobs
}

/** Sweep unreferenced layer snapshots, and those of `candidateBlobs` nobody references. Call inside store.exclusive(). */
export async function collectGarbage(d: GcDeps, candidateBlobs: Iterable<string> = []): Promise<GcResult> {
  const liveSnapshots = new Set<string>();
  const liveBlobs = new Set<string>();
  for (const rec of d.store.list()) {
    liveBlobs.add(rec.id);
    let cfg: ImageConfig;
    try {
      cfg = await d.config(rec.id);
    } catch {
      continue;
    }
    for (const diff of cfg.rootfs.diff_ids) liveBlobs.add(diff);
    for (const c of chainIds(cfg.rootfs.diff_ids)) liveSnapshots.add(c);
  }

  const committed = new Map<string, string | null>();
  for await (const s of d.snapshotter.walk()) {
    if (s.kind === "committed" && s.name.startsWith("sha256:")) committed.set(s.name, s.parent);
  }
  const depth = (name: string): number => {
    let n = 0;
    for (let p = committed.get(name); p; p = committed.get(p) ?? null) n++;
    return n;
  };
  const dead = [...committed.keys()]
    .filter((n) => !liveSnapshots.has(n) && !d.leases.has(n))
    .sort((a, b) => depth(b) - depth(a));

  const result: GcResult = { snapshots: [], blobs: [] };
  const blobCandidates = new Set<string>(candidateBlobs);
  for (const name of dead) {
    try {
      await d.snapshotter.remove(name);
      result.snapshots.push(name);
    } catch (err) {
      if (!isKind(err, "conflict") && !isKind(err, "not-found")) throw err;
    }
  }
  for (const digest of blobCandidates) {
    if (liveBlobs.has(digest) || d.leases.has(digest)) continue;
    try {
      const { size } = await d.content.info(digest as Digest);
      await d.content.delete(digest as Digest);
      result.blobs.push({ digest, size });
    } catch (err) {
      if (!isKind(err, "not-found") && !isKind(err, "invalid-argument")) throw err;
    }
  }
  return result;
}
