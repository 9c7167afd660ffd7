import { basename } from "node:path";
import type { Readable } from "node:stream";
import { packTreeStream } from "./tree-packer.js";

/**
 * A tar of a file or directory tree, not following symlinks. A directory without rebaseName is packed as its
 * children (docker export of a rootfs); with rebaseName the top entry takes that name (docker cp: GET /archive
 * of /etc yields "etc/...", of /etc/hosts yields "hosts"). A non-directory is named rebaseName or its basename.
 */
export function packTree(path: string, opts: { rebaseName?: string; signal?: AbortSignal } = {}): Readable {
  return packTreeStream(path, {
    diff: false,
    topName: opts.rebaseName ?? "",
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.rebaseName === undefined ? { topNameForFile: basename(path) } : {}),
  });
}
