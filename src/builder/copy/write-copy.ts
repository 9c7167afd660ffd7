import {
  chmodSync, copyFileSync, lchownSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, utimesSync,
} from "node:fs";
import { lchown, lstat, mkdir } from "node:fs/promises";
import { join, posix } from "node:path";
import { invalidArgument } from "../../errdefs/index.js";
import { resolveInRoot } from "../../images/layer/index.js";
import { parentsDestination } from "./parents-path.js";
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
  if (multiple && !dest.isDir && !selected.every((s) => s.pivot !== undefined)) {
    throw invalidArgument(`When using ${what} with more than one source file, the destination must be a directory and end with a /`);
  }
  const excluded = (rel: string) => (o.excludes ?? []).some((x) => posix.basename(rel) === x || matchSimple(x, rel));
  for (const s of selected) {
    const srcHost = s.rel === "" ? tree.root : join(tree.root, s.rel);
    if (s.pivot !== undefined) {
      // --parents: the destination is a directory and the source keeps its path below the pivot.
      const target = parentsDestination(dest.path, s.rel, s.pivot);
      if (s.isDir) {
        copyChildren(srcHost, await ensureDir(root, target, o), "", o, excluded);
        continue;
      }
      const parentHost = await ensureDir(root, posix.dirname(target), o);
      copyEntry(srcHost, join(parentHost, posix.basename(target)), o, excluded, "");
      continue;
    }
    if (s.isDir) {
      const dirHost = await ensureDir(root, dest.path, o);
      copyChildren(srcHost, dirHost, "", o, excluded);
      continue;
    }
    let target = dest.path;
    const existing = await lstat(await resolveInRoot(root, target)).catch(() => null);
    if (dest.isDir || existing?.isDirectory()) target = posix.join(target, posix.basename(s.rel));
    const parentHost = await ensureDir(root, posix.dirname(target), o);
    copyEntry(srcHost, join(parentHost, posix.basename(target)), o, excluded, "");
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

// Synchronous calls: one COPY of many small files is dominated by thread-pool round trips otherwise.
function copyChildren(srcDir: string, destDir: string, rel: string, o: CopyOptions, excluded: (rel: string) => boolean): void {
  for (const name of readdirSync(srcDir).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (excluded(r)) continue;
    copyEntry(join(srcDir, name), join(destDir, name), o, excluded, r);
  }
}

function copyEntry(src: string, dest: string, o: CopyOptions, excluded: (rel: string) => boolean, rel: string): void {
  const st = lstatSync(src);
  const uid = o.owner?.uid ?? (o.keepOwner ? st.uid : 0);
  const gid = o.owner?.gid ?? (o.keepOwner ? st.gid : 0);
  const existing = lstatSync(dest, { throwIfNoEntry: false });
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) rmSync(dest, { force: true });
    if (!existing?.isDirectory()) mkdirSync(dest);
    copyChildren(src, dest, rel, o, excluded);
    lchownSync(dest, uid, gid);
    chmodSync(dest, o.mode ?? st.mode & 0o7777);
    utimesSync(dest, st.atime, st.mtime);
    return;
  }
  if (existing) rmSync(dest, { recursive: true, force: true });
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(src), dest);
    lchownSync(dest, uid, gid);
    lutimesSync(dest, st.atime, st.mtime);
    return;
  }
  if (!st.isFile()) return;
  copyFileSync(src, dest);
  lchownSync(dest, uid, gid);
  // copyFile keeps the source mode; chown may have cleared set-id bits, so set it again only when needed.
  const mode = o.mode ?? st.mode & 0o7777;
  if (o.mode !== undefined || (mode & 0o6000) !== 0) chmodSync(dest, mode);
  utimesSync(dest, st.atime, st.mtime);
}
