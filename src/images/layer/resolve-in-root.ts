import { lstat, readlink } from "node:fs/promises";
import { join } from "node:path";
import { invalidArgument } from "../../errdefs/index.js";

const MAX_LINKS = 255;

/**
 * Resolve a container path inside rootDir as if rootDir were "/" (chroot semantics): "..", absolute symlinks
 * and relative symlinks never leave it. Missing components are kept lexically. followLast=false leaves a
 * final symlink unresolved. Returns a host path inside rootDir.
 */
export async function resolveInRoot(rootDir: string, path: string, opts: { followLast?: boolean } = {}): Promise<string> {
  const followLast = opts.followLast ?? true;
  const resolved: string[] = [];
  let pending = path.split("/").filter((c) => c !== "" && c !== ".");
  let links = 0;
  while (pending.length) {
    const c = pending.shift()!;
    if (c === "..") {
      resolved.pop();
      continue;
    }
    if (c === "." || c === "") continue;
    const host = join(rootDir, ...resolved, c);
    const last = pending.length === 0;
    let isLink = false;
    try {
      isLink = (await lstat(host)).isSymbolicLink();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw err;
    }
    if (!isLink || (last && !followLast)) {
      resolved.push(c);
      continue;
    }
    if (++links > MAX_LINKS) throw invalidArgument(`resolving ${JSON.stringify(path)}: too many levels of symbolic links`);
    const target = await readlink(host);
    if (target.startsWith("/")) resolved.length = 0;
    pending = [...target.split("/").filter((x) => x !== "" && x !== "."), ...pending];
  }
  return join(rootDir, ...resolved);
}
