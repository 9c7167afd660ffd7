import type { Readable } from "node:stream";
import { packTreeStream } from "./tree-packer.js";

/**
 * The changes in an overlay upper dir as an OCI layer tar: whiteout devices -> ".wh.<name>", opaque dirs ->
 * "<dir>/.wh..wh..opq", PAX SCHILY.xattr.* (trusted.overlay.* skipped), hard links by inode, names in byte order.
 */
export function packDiff(upperDir: string, opts: { signal?: AbortSignal } = {}): Readable {
  return packTreeStream(upperDir, { diff: true, topName: "", ...opts });
}
