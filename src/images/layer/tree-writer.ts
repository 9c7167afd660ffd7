import {
  write,
  chmodSync, closeSync, constants, copyFileSync, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync,
  lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeSync,
  type Stats,
} from "node:fs";
import { join } from "node:path";
import type { Header } from "tar-stream";
import { cancelled, invalidArgument } from "../../errdefs/index.js";
import { PAX_XATTR_PREFIX, xattrValue } from "./binary-pax.js";
import { cleanEntryName, splitRel } from "./entry-name.js";
import { mknodBatch, type NodeSpec } from "./mknod-batch.js";
import { resolveInRoot } from "./resolve-in-root.js";
import { readXattrsTree, writeXattrs, type Xattrs } from "./xattrs.js";

export interface TreeWriterOptions {
  /** "layer": apply into a snapshot dir, whiteouts become overlay form, no symlink is ever traversed.
   *  "archive": extract into a container root, parents resolved as if root were "/". */
  mode: "layer" | "archive";
  root: string;
  /** archive mode: the container path entries are relative to. */
  dirInRoot?: string;
  /** The parent layers' dirs, nearest first; a function when they are still being written (asked only when needed). */
  lowerDirs?: string[] | (() => Promise<string[]>);
  allowDevices?: boolean;
  /** Write file data with synchronous calls (on a worker thread, where blocking is free and a threadpool hop is not). */
  syncWrites?: boolean;
  noOverwriteDirNonDir?: boolean;
  owner?: { uid: number; gid: number };
  signal?: AbortSignal;
}

export type PaxHeaders = Omit<Partial<Header>, "pax"> & { name: string; pax?: Record<string, string> | null };

const O_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const OPAQUE = ".wh..wh..opq";
const WH = ".wh.";
// Attributes a layer must not set: overlay's own control attributes, and labels the host policy owns.
const DROP_XATTR = /^(trusted\.overlay\.|security\.selinux$)/;

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

function lstatOrNull(p: string): Stats | null {
  try {
    // throwIfNoEntry: building an ENOENT error per new entry costs more than the syscall
    return lstatSync(p, { throwIfNoEntry: false }) ?? null;
  } catch (err) {
    if (code(err) === "ENOENT" || code(err) === "ENOTDIR") return null;
    throw err;
  }
}

const ASYNC_WRITE_MIN = 64 << 10;

function writeAsync(fd: number, buf: Buffer, off: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve(n))));
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) { /* discard */ }
}

const isWhiteoutDevice = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

/** Writes tar entries into a directory tree. Shared by applyLayer and extractArchive; see their contracts. */
export class TreeWriter {
  readonly #o: TreeWriterOptions;
  #lowers: string[] | (() => Promise<string[]>);
  readonly #knownDirs = new Map<string, string>();   // rel dir -> host dir, verified real directories
  readonly #dirTimes = new Map<string, Date>();
  readonly #xattrs = new Map<string, Xattrs>();
  readonly #nodes = new Map<string, { spec: NodeSpec; hdr: PaxHeaders }>();
  readonly #whiteouts = new Map<string, PaxHeaders>();
  readonly #opaque = new Set<string>();
  /** Layer mode into an empty dir: a path exists only if this writer made it, so most lstat calls can be skipped. */
  readonly #fresh: boolean;
  readonly #created = new Set<string>();
  size = 0;

  constructor(opts: TreeWriterOptions) {
    this.#o = opts;
    this.#lowers = opts.lowerDirs ?? [];
    if (opts.mode === "layer") this.#knownDirs.set("", opts.root);
    this.#fresh = opts.mode === "layer" && readdirSync(opts.root).length === 0;
  }

  async #lowerDirs(): Promise<string[]> {
    if (typeof this.#lowers === "function") this.#lowers = await this.#lowers();
    return this.#lowers;
  }

  get #layer(): boolean {
    return this.#o.mode === "layer";
  }

  async entry(hdr: PaxHeaders, stream: AsyncIterable<Buffer>): Promise<void> {
    if (this.#o.signal?.aborted) throw cancelled();
    const rel = cleanEntryName(hdr.name);
    if (rel === "") return drain(stream);
    const { dir, base } = splitRel(rel);
    if (this.#layer && base.startsWith(WH)) {
      await drain(stream);
      const parent = await this.#parent(dir, hdr.name);
      if (base === OPAQUE) this.#opaque.add(parent);
      else if (base.startsWith(WH + WH)) return; // aufs metadata: not content
      else {
        const name = base.slice(WH.length);
        if (name === "" || name === "." || name === "..") throw invalidArgument(`invalid whiteout entry ${JSON.stringify(hdr.name)}`);
        this.#whiteouts.set(join(parent, name), hdr);
      }
      return;
    }
    const parent = await this.#parent(dir, hdr.name);
    const p = join(parent, base);
    const type = hdr.type ?? "file";
    const isDir = type === "directory";
    this.#clearExisting(p, rel, isDir, hdr.name);
    switch (type) {
      case "file":
      case "contiguous-file":
        await this.#file(p, hdr, stream);
        break;
      case "directory":
        await drain(stream);
        if (!lstatOrNull(p)) mkdirSync(p, 0o700);
        this.#meta(p, hdr, "dir");
        this.#knownDirs.set(rel, p);
        break;
      case "symlink":
        await drain(stream);
        symlinkSync(hdr.linkname ?? "", p);
        this.#meta(p, hdr, "symlink");
        break;
      case "link":
        await drain(stream);
        await this.#hardlink(p, hdr);
        break;
      case "character-device":
      case "block-device":
      case "fifo": {
        await drain(stream);
        if (type !== "fifo" && !(this.#o.allowDevices ?? false)) {
          this.#created.delete(p);
          return;
        }
        const kind = type === "fifo" ? "p" : type === "block-device" ? "b" : "c";
        this.#nodes.set(p, { spec: { path: p, kind, major: hdr.devmajor ?? 0, minor: hdr.devminor ?? 0 }, hdr });
        break;
      }
      default:
        throw invalidArgument(`unhandled tar header type ${JSON.stringify(type)} for ${JSON.stringify(hdr.name)}`);
    }
    if (hdr.pax) this.#collectXattrs(p, hdr.pax);
    if (type !== "link") this.size += hdr.size ?? 0;
  }

  /** Host directory for a relative dir, made if missing, never through a symlink in layer mode. */
  async #parent(dir: string, name: string): Promise<string> {
    const known = this.#knownDirs.get(dir);
    if (known !== undefined) return known;
    if (!this.#layer) {
      const host = await resolveInRoot(this.#o.root, join(this.#o.dirInRoot ?? "/", dir));
      const st = lstatOrNull(host);
      if (!st) mkdirSync(host, { recursive: true, mode: 0o755 });
      else if (!st.isDirectory()) throw invalidArgument(`cannot extract ${JSON.stringify(name)}: ${JSON.stringify(dir)} is not a directory`);
      this.#knownDirs.set(dir, host);
      return host;
    }
    let host = this.#o.root;
    let prefix = "";
    for (const c of dir.split("/")) {
      prefix = prefix ? `${prefix}/${c}` : c;
      host = join(host, c);
      if (this.#knownDirs.has(prefix)) continue;
      const st = lstatOrNull(host);
      if (!st) {
        await this.#mkdirLikeLower(host, prefix);
        this.#created.add(host);
      }
      else if (st.isSymbolicLink()) {
        throw invalidArgument(`invalid tar entry ${JSON.stringify(name)}: ${JSON.stringify(prefix)} is a symbolic link, refusing to write through it`);
      } else if (!st.isDirectory()) {
        throw invalidArgument(`invalid tar entry ${JSON.stringify(name)}: ${JSON.stringify(prefix)} is not a directory`);
      }
      this.#knownDirs.set(prefix, host);
    }
    return host;
  }

  /** A missing parent takes the metadata of the same directory in a lower layer, as overlay copy-up would. */
  async #mkdirLikeLower(host: string, rel: string): Promise<void> {
    for (const lower of await this.#lowerDirs()) {
      const st = lstatOrNull(join(lower, rel));
      if (!st) continue;
      if (!st.isDirectory()) break;
      mkdirSync(host, 0o700);
      lchownSync(host, st.uid, st.gid);
      chmodSync(host, st.mode & 0o7777);
      this.#dirTimes.set(host, st.mtime);
      return;
    }
    mkdirSync(host, 0o755);
  }

  #exists(p: string): boolean {
    return this.#fresh ? this.#created.has(p) : lstatOrNull(p) !== null;
  }

  #clearExisting(p: string, rel: string, isDir: boolean, name: string): void {
    this.#nodes.delete(p);
    if (this.#fresh && !this.#created.has(p)) {
      this.#created.add(p);
      return;
    }
    const st = lstatOrNull(p);
    if (!st) return;
    const existingDir = st.isDirectory();
    if (this.#o.noOverwriteDirNonDir) {
      if (existingDir && !isDir) throw invalidArgument(`cannot overwrite directory ${JSON.stringify(p.slice(this.#o.root.length) || "/")} with non-directory ${JSON.stringify(name)}`);
      if (!existingDir && isDir) throw invalidArgument(`cannot overwrite non-directory ${JSON.stringify(p.slice(this.#o.root.length))} with directory ${JSON.stringify(name)}`);
    }
    if (existingDir && isDir) return;
    if (this.#knownDirs.has(rel)) {
      for (const k of [...this.#knownDirs.keys()]) if (k === rel || k.startsWith(rel + "/")) this.#knownDirs.delete(k);
    }
    rmSync(p, { recursive: true, force: true });
  }

  async #file(p: string, hdr: PaxHeaders, stream: AsyncIterable<Buffer>): Promise<void> {
    const fd = openSync(p, O_NEW, 0o600);
    try {
      for await (const chunk of stream) {
        let off = 0;
        // Big chunks go to the threadpool so the main thread keeps parsing and hashing meanwhile.
        while (off < chunk.length) off += chunk.length - off >= ASYNC_WRITE_MIN && !this.#o.syncWrites ? await writeAsync(fd, chunk, off) : writeSync(fd, chunk, off, chunk.length - off);
      }
      const { uid, gid } = this.#ids(hdr);
      fchownSync(fd, uid, gid);
      fchmodSync(fd, (hdr.mode ?? 0o644) & 0o7777);
      const t = hdr.mtime ?? new Date(0);
      futimesSync(fd, t, t);
    } finally {
      closeSync(fd);
    }
  }

  #ids(hdr: PaxHeaders): { uid: number; gid: number } {
    return this.#o.owner ?? { uid: hdr.uid ?? 0, gid: hdr.gid ?? 0 };
  }

  #meta(p: string, hdr: PaxHeaders, kind: "dir" | "symlink" | "other"): void {
    const { uid, gid } = this.#ids(hdr);
    lchownSync(p, uid, gid);
    const t = hdr.mtime ?? new Date(0);
    if (kind === "symlink") {
      lutimesSync(p, t, t);
      return;
    }
    chmodSync(p, (hdr.mode ?? (kind === "dir" ? 0o755 : 0o644)) & 0o7777);
    if (kind === "dir") this.#dirTimes.set(p, t);
    else utimesSync(p, t, t);
  }

  async #hardlink(p: string, hdr: PaxHeaders): Promise<void> {
    const linkRel = cleanEntryName(hdr.linkname ?? "", "hard link target");
    if (linkRel === "") throw invalidArgument(`invalid hard link ${JSON.stringify(hdr.name)}: it points at the root`);
    const { dir, base } = splitRel(linkRel);
    let target: string;
    if (this.#layer) {
      target = join(await this.#parent(dir, hdr.name), base);
      if (this.#nodes.has(target)) await this.#flushNodes();
      if (!this.#exists(target)) {
        await this.#copyUp(linkRel, target, hdr.name);
        this.#created.add(target);
      }
    } else {
      target = await resolveInRoot(this.#o.root, join(this.#o.dirInRoot ?? "/", linkRel), { followLast: false });
      if (this.#nodes.has(target)) await this.#flushNodes();
      if (!lstatOrNull(target)) throw invalidArgument(`invalid hard link ${JSON.stringify(hdr.name)}: target ${JSON.stringify(hdr.linkname)} does not exist`);
    }
    linkSync(target, p);
  }

  /** A hard link to a file of a lower layer: copy the file up into this layer first, as overlay would. */
  async #copyUp(rel: string, dst: string, name: string): Promise<void> {
    for (const lower of await this.#lowerDirs()) {
      let host = lower;
      let blocked = false;
      const parts = rel.split("/");
      for (let i = 0; i < parts.length - 1; i++) {
        host = join(host, parts[i]!);
        const st = lstatOrNull(host);
        if (st && (st.isSymbolicLink() || isWhiteoutDevice(st) || !st.isDirectory())) { blocked = true; break; }
      }
      if (blocked) break;
      const src = join(lower, rel);
      const st = lstatOrNull(src);
      if (!st) continue;
      if (isWhiteoutDevice(st)) break;
      if (st.isSymbolicLink()) {
        symlinkSync(readlinkSync(src), dst);
        lchownSync(dst, st.uid, st.gid);
        lutimesSync(dst, st.atime, st.mtime);
      } else if (st.isFile()) {
        copyFileSync(src, dst, constants.COPYFILE_EXCL);
        lchownSync(dst, st.uid, st.gid);
        chmodSync(dst, st.mode & 0o7777);
        utimesSync(dst, st.atime, st.mtime);
        const attrs = (await readXattrsTree(src, { recursive: false })).get(src);
        if (attrs) this.#xattrs.set(dst, attrs);
      } else break;
      return;
    }
    throw invalidArgument(`invalid hard link ${JSON.stringify(name)}: target ${JSON.stringify(rel)} not found in the layer or its parents`);
  }

  #collectXattrs(p: string, pax: Record<string, string>): void {
    let attrs: Xattrs | undefined;
    for (const [k, v] of Object.entries(pax)) {
      if (!k.startsWith(PAX_XATTR_PREFIX)) continue;
      const name = k.slice(PAX_XATTR_PREFIX.length);
      if (!name || DROP_XATTR.test(name)) continue;
      attrs ??= new Map();
      attrs.set(name, xattrValue(v));
    }
    if (attrs) this.#xattrs.set(p, attrs);
  }

  async #flushNodes(): Promise<void> {
    const nodes = [...this.#nodes.values()];
    this.#nodes.clear();
    await mknodBatch(nodes.map((n) => n.spec));
    for (const { spec, hdr } of nodes) this.#meta(spec.path, hdr, "other");
  }

  /** Deferred work: device nodes, whiteouts, xattrs, then directory times (children change their parent's mtime). */
  async finish(): Promise<void> {
    for (const [p, hdr] of this.#whiteouts) {
      const st = lstatOrNull(p);
      if (st?.isDirectory()) this.#opaque.add(p); // deleted and re-created in this layer
      else if (!st) this.#nodes.set(p, { spec: { path: p, kind: "c", major: 0, minor: 0 }, hdr: { ...hdr, mode: 0o600 } });
    }
    await this.#flushNodes();
    for (const d of this.#opaque) {
      const attrs = this.#xattrs.get(d) ?? new Map<string, Buffer>();
      attrs.set("trusted.overlay.opaque", Buffer.from("y"));
      this.#xattrs.set(d, attrs);
    }
    await writeXattrs(this.#xattrs);
    const dirs = [...this.#dirTimes].sort((a, b) => b[0].length - a[0].length);
    for (const [p, t] of dirs) utimesSync(p, t, t);
  }
}
