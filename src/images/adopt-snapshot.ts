/**
 * Turn an active snapshot (a build step's written upper dir) into a committed layer in place, the way
 * containerd's overlay snapshotter commits: the upper dir is packed once, in flight, into the layer blob
 * (its digest is the diff id), and the snapshot itself becomes the layer under its chain id. No second
 * copy of the files is written. The active key is consumed (committed or removed) on success.
 */
import { pipeline } from "node:stream/promises";
import { cancelled } from "../errdefs/index.js";
import { DigestStream } from "../util/index.js";
import { packDiff } from "./layer/index.js";
import { chainIdOf } from "./chain-id.js";
import { commitBlobOnce, commitSnapshotOnce, type UnpackDeps, type UnpackResult } from "./layer-unpacker.js";
import type { LeaseGroup } from "./leases.js";

export async function adoptSnapshot(
  deps: UnpackDeps, key: string, opts: { parentChain: string | null; leases: LeaseGroup; signal?: AbortSignal },
): Promise<UnpackResult> {
  const { content, snapshotter } = deps;
  const writer = await content.writer(`layer-${key}`);
  let diffId;
  let size;
  try {
    const digest = new DigestStream({ highWaterMark: 1 << 20 });
    await pipeline(packDiff(await snapshotter.dir(key), opts.signal ? { signal: opts.signal } : {}), digest, writer);
    diffId = digest.digest();
    size = digest.bytes;
  } catch (err) {
    await writer.abort().catch(() => {});
    throw opts.signal?.aborted ? cancelled("commit cancelled", { cause: err }) : err;
  }
  const chainId = chainIdOf(opts.parentChain, diffId);
  opts.leases.add(chainId, diffId);
  const createdBlob = await commitBlobOnce(content, writer, diffId, size);
  const createdSnapshot = await commitSnapshotOnce(snapshotter, chainId, key);
  return { diffId, chainId, size, createdSnapshot, createdBlob };
}
