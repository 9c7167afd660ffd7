import { sha256, type Digest } from "../util/index.js";

/** OCI ChainIDs: chain(L0) = diffid(L0); chain(Ln) = sha256(chain(Ln-1) + " " + diffid(Ln)). */
export function chainIds(diffIds: readonly string[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? (d as Digest) : sha256(`${prev} ${d}`));
  }
  return out;
}

export function chainIdOf(parentChain: string | null, diffId: string): Digest {
  return parentChain === null ? (diffId as Digest) : sha256(`${parentChain} ${diffId}`);
}
