import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join, posix } from "node:path";
import { invalidArgument, notFound } from "../../errdefs/index.js";
import { globMatch } from "../../images/glob-match.js";
import { parentsMatch, parentsSource } from "./parents-path.js";
import { entryHash, type ContextEntry, type ContextEntryType } from "../context/build-context.js";

/** Files COPY/ADD can read: a host directory and a hash for every path in it (relative, "/"-separated). */
export interface SourceTree {
  root: string;
  entries: Map<string, ContextEntry>;
  /** "context" for the build context (its error wording differs), else the stage or image. */
  kind: "context" | "image";
}

/** One selected source: a path in the tree ("" = its root) and whether it is a directory. */
export interface SelectedSource {
  rel: string;
  isDir: boolean;
  /** COPY --parents: the leading part of rel that is not kept at the destination ("" keeps all of it). */
  pivot?: string;
}

const GLOB = /[*?[]/;

/** Clean a source argument to a tree-relative path ("" = root); refuses paths that leave the tree. */
export function cleanSource(src: string): string {
  const n = posix.normalize(src.replace(/^\/+/, "")).replace(/\/+$/, "");
  if (n === "." || n === "") return "";
  if (n === ".." || n.startsWith("../")) throw invalidArgument(`forbidden path outside the build context: ${src} ()`);
  return n;
}

/** The sources a COPY names, globs expanded (Go filepath.Match over whole paths), in argument order. */
export function selectSources(tree: SourceTree, sources: readonly string[], what: string, o: { parents?: boolean } = {}): SelectedSource[] {
  const out: SelectedSource[] = [];
  for (const s of sources) {
    const ps = o.parents ? parentsSource(s) : null;
    const rel = ps ? ps.pattern : cleanSource(s);
    const extra = ps ? { pivot: ps.pivot } : {};
    if (GLOB.test(rel)) {
      const match = ps ? (k: string) => parentsMatch(rel, k) : (k: string) => globMatch(rel, k);
      const hits = [...tree.entries.keys()].filter(match).sort();
      for (const h of hits) out.push({ rel: h, isDir: tree.entries.get(h)!.type === "directory", ...extra });
      continue;
    }
    if (rel === "") {
      out.push({ rel, isDir: true, ...extra });
      continue;
    }
    const e = tree.entries.get(rel);
    if (!e) {
      if (tree.kind === "context") {
        throw notFound(`${what} failed: file not found in build context or excluded by .dockerignore: stat ${s}: file does not exist`);
      }
      throw notFound(`${what} failed: stat ${s}: file does not exist`);
    }
    out.push({ rel, isDir: e.type === "directory", ...extra });
  }
  if (out.length === 0) throw invalidArgument(`${what} failed: no source files were specified`);
  return out;
}

/** The (path, hash) list a selection's cache key is made of: every path under each selected directory, sorted. */
export function selectionFiles(tree: SourceTree, selected: readonly SelectedSource[], excludes: readonly string[] = []): [string, string][] {
  const out: [string, string][] = [];
  const excluded = (p: string) => excludes.some((x) => globMatch(x, p) || globMatch(x, posix.basename(p)));
  for (const s of selected) {
    if (!s.isDir) {
      out.push([s.rel, tree.entries.get(s.rel)!.hash]);
      continue;
    }
    const prefix = s.rel === "" ? "" : `${s.rel}/`;
    const under: [string, string][] = [];
    for (const [k, e] of tree.entries) {
      if (prefix === "" || k.startsWith(prefix)) {
        if (!excluded(k.slice(prefix.length))) under.push([k, e.hash]);
      }
    }
    under.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (s.rel !== "") out.push([`${s.rel}/`, tree.entries.get(s.rel)?.hash ?? ""]);
    out.push(...under);
  }
  return out;
}

/** Hash the given paths (and everything below them) of a directory tree, reading file contents. */
export async function scanTree(root: string, rels: readonly string[]): Promise<Map<string, ContextEntry>> {
  const entries = new Map<string, ContextEntry>();
  const visit = async (rel: string): Promise<void> => {
    if (entries.has(rel)) return;
    const host = rel === "" ? root : join(root, rel);
    let st;
    try {
      st = await lstat(host);
    } catch {
      return;
    }
    let type: ContextEntryType;
    let content = "";
    let linkname = "";
    if (st.isDirectory()) type = "directory";
    else if (st.isSymbolicLink()) { type = "symlink"; linkname = await readlink(host); }
    else if (st.isFile()) { type = "file"; content = await hashFile(host); }
    else return;
    const base = { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: type === "file" ? st.size : 0, linkname };
    if (rel !== "") entries.set(rel, { ...base, hash: entryHash(base, content) });
    if (type === "directory") {
      for (const name of (await readdir(host)).sort()) await visit(rel === "" ? name : `${rel}/${name}`);
    }
  };
  for (const r of rels) {
    // Parents of a requested path must be known for lookups, but their contents are not scanned.
    const parts = r.split("/");
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join("/");
      if (!entries.has(p)) {
        const st = await lstat(join(root, p)).catch(() => null);
        if (!st?.isDirectory()) break;
        const base = { type: "directory" as const, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: 0, linkname: "" };
        entries.set(p, { ...base, hash: entryHash(base, "") });
      }
    }
    await visit(r);
  }
  return entries;
}

async function hashFile(p: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(p)) h.update(chunk as Buffer);
  return h.digest("hex");
}
