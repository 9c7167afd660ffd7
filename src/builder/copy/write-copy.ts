import { copyFile, lchown, lstat, lutimes, mkdir, readdir, readlink, rm, symlink, chmod, utimes } from "node:fs/promises";
import { join, posix } from "node:path";
import { invalidArgument } from "../../errdefs/index.js";
import { resolveInRoot } from "../../images/layer/index.js";
import type { SelectedSource, SourceTree } from "./source-tree.js";

export interface CopyOptions {
  /** --chown resolved; undefined keeps the source's owner (keepOwner) or root. */
  owner?: { uid: number; gid: number };
  keepOwner: boolean;
  /** --chmod; applies to every copied file and directory. */
  mode?: number;
  excludes?: string[];
}

/** Docker's COPY destination rule: relative to WORKDIR, and a directory when it ends in "/" (or is "."). */
export function copyDestination(dest: string, workdir: string): { path: string; isDir: boolean } {
  const isDir = dest.endsWith("/") || dest === "." || dest.endsWith("/.");
  const abs = posix.isAbsolute(dest) ? dest : posix.join(workdir || "/", dest);
  return { path: posix.normalize(abs).replace(/(.)\/+$/, "$1"), isDir };
}

/** Write the selected sources into a mounted root (the merged view of the step's snapshot). */
export async function writeCopy(
  tree: SourceTree, selected: readonly SelectedSource[], dest: { path: string; isDir: boolean }, root: string, o: CopyOptions, what: string,
): Promise<void> {
  const multiple = selected.length > 1;
  if (multiple && !dest.isDir) {
    throw invalidArgument(`When using ${what} with more than one source file, the destination must be a directory and end with a /`);
  }
  const excluded = (rel: string) => (o.excludes ?? []).some((x) => posix.basename(rel) === x || matchSimple(x, rel));
  for (const s of selected) {
    const srcHost = s.rel === "" ? tree.root : join(tree.root, s.rel);
    if (s.isDir) {
      const dirHost = await ensureDir(root, dest.path, o);
      await copyChildren(srcHost, dirHost, "", o, excluded);
      continue;
    }
    let target = dest.path;
    const existing = await lstat(await resolveInRoot(root, target)).catch(() => null);
    if (dest.isDir || existing?.isDirectory()) target = posix.join(target, posix.basename(s.rel));
    const parentHost = await ensureDir(root, posix.dirname(target), o);
    await copyEntry(srcHost, join(parentHost, posix.basename(target)), o, excluded, "");
  }
}

function matchSimple(pattern: string, rel: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*\*/g, "\u0000").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]").replace(/\u0000/g, ".*")}$`);
  return re.test(rel);
}

/** mkdir -p inside root; directories it creates get the --chown owner (or root) and 0755. */
async function ensureDir(root: string, path: string, o: CopyOptions): Promise<string> {
  let prefix = "/";
  let host = root;
  for (const c of path.split("/").filter(Boolean)) {
    prefix = posix.join(prefix, c);
    host = await resolveInRoot(root, prefix);
    const st = await lstat(host).catch(() => null);
    if (!st) {
      await mkdir(host, { mode: 0o755 });
      await lchown(host, o.owner?.uid ?? 0, o.owner?.gid ?? 0);
    } else if (!st.isDirectory()) {
      throw invalidArgument(`cannot copy to ${path}: ${prefix} is not a directory`);
    }
  }
  return host;
}

async function copyChildren(srcDir: string, destDir: string, rel: string, o: CopyOptions, excluded: (rel: string) => boolean): Promise<void> {
  for (const name of (await readdir(srcDir)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (excluded(r)) continue;
    await copyEntry(join(srcDir, name), join(destDir, name), o, excluded, r);
  }
}

async function copyEntry(src: string, dest: string, o: CopyOptions, excluded: (rel: string) => boolean, rel: string): Promise<void> {
  const st = await lstat(src);
  const uid = o.owner?.uid ?? (o.keepOwner ? st.uid : 0);
  const gid = o.owner?.gid ?? (o.keepOwner ? st.gid : 0);
  const existing = await lstat(dest).catch(() => null);
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) await rm(dest, { force: true });
    if (!existing?.isDirectory()) await mkdir(dest);
    await copyChildren(src, dest, rel, o, excluded);
    await lchown(dest, uid, gid);
    await chmod(dest, o.mode ?? st.mode & 0o7777);
    await utimes(dest, st.atime, st.mtime);
    return;
  }
  if (existing) await rm(dest, { recursive: true, force: true });
  if (st.isSymbolicLink()) {
    await symlink(await readlink(src), dest);
    await lchown(dest, uid, gid);
    await lutimes(dest, st.atime, st.mtime);
    return;
  }
  if (!st.isFile()) return;
  await copyFile(src, dest);
  await lchown(dest, uid, gid);
  await chmod(dest, o.mode ?? st.mode & 0o7777);
  await utimes(dest, st.atime, st.mtime);
}
