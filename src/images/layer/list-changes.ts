import { lstat, opendir, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { ChangeItem } from "../../spec/engine.js";
import { readXattrsTree } from "./xattrs.js";

type Stats = import("node:fs").Stats;

async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await lstat(p);
  } catch {
    return null;
  }
}

/**
 * docker diff of an overlay upper dir, with Docker's rules: a whiteout or opaque dir is Kind 2 (deleted), a path
 * found in a lower dir is Kind 0 (modified) unless it is a directory with the same size, mode and mtime, anything
 * else is Kind 1 (added); the parent of an added or deleted path is reported modified. Paths are absolute, in
 * walk order (depth first, names in byte order).
 */
export async function listChanges(upperDir: string, lowerDirs: string[]): Promise<ChangeItem[]> {
  const xattrs = await readXattrsTree(upperDir);
  const changes: ChangeItem[] = [];
  const changedDirs = new Set<string>();

  const visit = async (host: string, path: string, st: Stats): Promise<void> => {
    let kind: 0 | 1 | 2 | null = null;
    const opaque = st.isDirectory() && xattrs.get(host)?.get("trusted.overlay.opaque")?.toString() === "y";
    if ((st.isCharacterDevice() && st.rdev === 0) || opaque) kind = 2;
    else {
      kind = 1;
      for (const lower of lowerDirs) {
        const lst = await lstatOrNull(join(lower, path));
        if (!lst) continue;
        if (lst.isDirectory() && st.isDirectory() && lst.size === st.size && lst.mode === st.mode
          && Math.floor(lst.mtimeMs) === Math.floor(st.mtimeMs)) kind = null;
        else kind = 0;
        break;
      }
    }
    if (st.isDirectory()) changedDirs.add(path);
    if (kind === 1 || kind === 2) {
      const parent = path.slice(0, path.lastIndexOf("/")) || "/";
      if (parent !== "/" && !changedDirs.has(parent)) {
        changes.push({ Path: parent, Kind: 0 });
        changedDirs.add(parent);
      }
    }
    if (kind !== null) changes.push({ Path: path, Kind: kind });
    if (st.isDirectory()) {
      for (const n of (await readdir(host)).sort()) {
        const cst = await lstatOrNull(join(host, n));
        if (cst) await visit(join(host, n), path === "/" ? `/${n}` : `${path}/${n}`, cst);
      }
    }
  };

  const d = await opendir(upperDir);
  await d.close();
  for (const n of (await readdir(upperDir)).sort()) {
    const st = await lstatOrNull(join(upperDir, n));
    if (st) await visit(join(upperDir, n), `/${n}`, st);
  }
  return changes;
}
