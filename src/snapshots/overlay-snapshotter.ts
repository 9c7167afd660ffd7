import { existsSync, readFileSync } from "node:fs";
import { lstat, mkdir, opendir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  alreadyExists, conflict, invalidArgument, notFound,
} from "../errdefs/index.js";
import { atomicWriteJson } from "../util/index.js";
import type { Mount, SnapOptions, SnapshotInfo, SnapshotKind, Snapshotter } from "./snapshotter.js";

interface Record_ {
  id: number;
  kind: SnapshotKind;
  parent: string | null;
  created: string;
  labels: Record<string, string>;
}

interface Metadata {
  version: 1;
  nextId: number;
  snapshots: Record<string, Record_>;
}

const OVERLAY_PARAMS = "/sys/module/overlay/parameters";

/** Mount options that pin overlay features our diff and apply code relies on, when the kernel knows them. */
function featureOptions(): string[] {
  const opts: string[] = [];
  // index=on (a module default on some distros) breaks re-use of a lower dir under another upper.
  if (existsSync(join(OVERLAY_PARAMS, "index"))) opts.push("index=off");
  // redirect_dir and metacopy make upper dirs that packDiff cannot read as a plain changeset.
  for (const p of ["redirect_dir", "metacopy"]) {
    try {
      if (readFileSync(join(OVERLAY_PARAMS, p), "utf8").trim() === "Y") opts.push(`${p}=off`);
    } catch { /* parameter absent: feature absent */ }
  }
  return opts;
}

/**
 * Snapshotter over overlayfs: <root>/<n>/fs (the layer or upper dir) and <root>/<n>/work, metadata in
 * <root>/metadata.json. Directories are made before the metadata names them and removed after it
 * forgets them, so a crash leaves only orphan directories, which open() sweeps.
 */
export class OverlaySnapshotter implements Snapshotter {
  readonly #root: string;
  #meta: Metadata;
  #lock: Promise<unknown> = Promise.resolve();
  readonly #features: string[];

  private constructor(root: string, meta: Metadata) {
    this.#root = root;
    this.#meta = meta;
    this.#features = featureOptions();
  }

  static async open(root: string): Promise<OverlaySnapshotter> {
    await mkdir(root, { recursive: true, mode: 0o711 });
    let meta: Metadata = { version: 1, nextId: 1, snapshots: {} };
    try {
      meta = JSON.parse(await readFile(join(root, "metadata.json"), "utf8")) as Metadata;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const s = new OverlaySnapshotter(root, meta);
    await s.#sweep();
    return s;
  }

  get root(): string {
    return this.#root;
  }

  async #sweep(): Promise<void> {
    const known = new Set(Object.values(this.#meta.snapshots).map((r) => String(r.id)));
    let max = 0;
    for (const name of await readdir(this.#root)) {
      if (!/^\d+$/.test(name)) {
        if (name.startsWith(".metadata.json.") && name.endsWith(".tmp")) await rm(join(this.#root, name), { force: true });
        continue;
      }
      max = Math.max(max, Number(name));
      if (!known.has(name)) await rm(join(this.#root, name), { recursive: true, force: true });
    }
    this.#meta.nextId = Math.max(this.#meta.nextId, max + 1);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => {});
    return run;
  }

  async #save(next: Metadata): Promise<void> {
    await atomicWriteJson(join(this.#root, "metadata.json"), next, 0o600);
    this.#meta = next;
  }

  #clone(): Metadata {
    return { version: 1, nextId: this.#meta.nextId, snapshots: { ...this.#meta.snapshots } };
  }

  #get(key: string): Record_ {
    const r = this.#meta.snapshots[key];
    if (!r) throw notFound(`snapshot ${key} does not exist: not found`);
    return r;
  }

  #fs(r: Record_): string {
    return join(this.#root, String(r.id), "fs");
  }

  #work(r: Record_): string {
    return join(this.#root, String(r.id), "work");
  }

  #chain(parent: string | null): string[] {
    const dirs: string[] = [];
    let p = parent;
    while (p !== null) {
      const r = this.#get(p);
      dirs.push(this.#fs(r));
      p = r.parent;
    }
    return dirs;
  }

  #mountsOf(r: Record_): Mount[] {
    const lowers = this.#chain(r.parent);
    if (r.kind === "view") {
      if (lowers.length === 1) return [{ type: "bind", source: lowers[0]!, options: ["ro", "rbind"] }];
      // overlay without an upper dir needs two lower dirs; a view of an empty chain is its own empty dir
      if (lowers.length === 0) return [{ type: "bind", source: this.#fs(r), options: ["ro", "rbind"] }];
      return [{ type: "overlay", source: "overlay", options: [...this.#features, `lowerdir=${lowers.join(":")}`] }];
    }
    if (r.kind !== "active") throw invalidArgument(`snapshot ${Object.keys(this.#meta.snapshots).find((k) => this.#meta.snapshots[k] === r)} is committed: it has no mounts`);
    if (lowers.length === 0) return [{ type: "bind", source: this.#fs(r), options: ["rw", "rbind"] }];
    return [{
      type: "overlay",
      source: "overlay",
      options: [...this.#features, `lowerdir=${lowers.join(":")}`, `upperdir=${this.#fs(r)}`, `workdir=${this.#work(r)}`],
    }];
  }

  #create(key: string, parent: string | null, kind: SnapshotKind, opts: SnapOptions): Promise<Mount[]> {
    return this.#serial(async () => {
      opts.signal?.throwIfAborted();
      if (!key) throw invalidArgument("snapshot key must not be empty");
      if (this.#meta.snapshots[key]) throw alreadyExists(`snapshot ${key} already exists`);
      if (parent !== null) {
        const p = this.#get(parent);
        if (p.kind !== "committed") throw invalidArgument(`parent snapshot ${parent} is not committed`);
      }
      const next = this.#clone();
      const id = next.nextId++;
      const r: Record_ = { id, kind, parent, created: new Date().toISOString(), labels: { ...opts.labels } };
      await mkdir(this.#fs(r), { recursive: true, mode: 0o755 });
      if (kind === "active") await mkdir(this.#work(r), { mode: 0o700 });
      next.snapshots[key] = r;
      try {
        await this.#save(next);
      } catch (err) {
        await rm(join(this.#root, String(id)), { recursive: true, force: true });
        throw err;
      }
      return this.#mountsOf(r);
    });
  }

  prepare(key: string, parent: string | null, opts: SnapOptions = {}): Promise<Mount[]> {
    return this.#create(key, parent, "active", opts);
  }

  view(key: string, parent: string, opts: SnapOptions = {}): Promise<Mount[]> {
    return this.#create(key, parent, "view", opts);
  }

  commit(name: string, key: string, opts: SnapOptions = {}): Promise<void> {
    return this.#serial(async () => {
      opts.signal?.throwIfAborted();
      const r = this.#get(key);
      if (r.kind !== "active") throw invalidArgument(`snapshot ${key} is not active: cannot commit`);
      if (!name) throw invalidArgument("snapshot name must not be empty");
      if (this.#meta.snapshots[name]) throw alreadyExists(`snapshot ${name} already exists`);
      const next = this.#clone();
      delete next.snapshots[key];
      next.snapshots[name] = { ...r, kind: "committed", labels: { ...r.labels, ...opts.labels } };
      await this.#save(next);
      // The work dir only serves a mounted upper; committed layers are lower dirs only.
      await rm(this.#work(r), { recursive: true, force: true });
    });
  }

  async mounts(key: string): Promise<Mount[]> {
    return this.#mountsOf(this.#get(key));
  }

  remove(keyOrName: string): Promise<void> {
    return this.#serial(async () => {
      const r = this.#get(keyOrName);
      const child = Object.entries(this.#meta.snapshots).find(([, c]) => c.parent === keyOrName);
      if (child) throw conflict(`cannot remove snapshot ${keyOrName}: it has a child snapshot ${child[0]}`);
      const next = this.#clone();
      delete next.snapshots[keyOrName];
      await this.#save(next);
      await rm(join(this.#root, String(r.id)), { recursive: true, force: true });
    });
  }

  async stat(keyOrName: string): Promise<SnapshotInfo> {
    return this.#info(keyOrName, this.#get(keyOrName));
  }

  #info(name: string, r: Record_): SnapshotInfo {
    return { name, parent: r.parent, kind: r.kind, created: r.created, labels: { ...r.labels } };
  }

  async *walk(): AsyncIterable<SnapshotInfo> {
    for (const [name, r] of Object.entries(this.#meta.snapshots)) yield this.#info(name, r);
  }

  async dir(keyOrName: string): Promise<string> {
    return this.#fs(this.#get(keyOrName));
  }

  async parentDirs(keyOrName: string): Promise<string[]> {
    return this.#chain(this.#get(keyOrName).parent);
  }

  /** Apparent size of the snapshot's own files (hard links counted once, directories not counted) and its inode count. */
  async usage(keyOrName: string): Promise<{ size: number; inodes: number }> {
    const top = this.#fs(this.#get(keyOrName));
    const seen = new Set<string>();
    let size = 0;
    let inodes = 0;
    const stack = [top];
    while (stack.length) {
      const dir = stack.pop()!;
      let d;
      try {
        d = await opendir(dir, { bufferSize: 256 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw err;
      }
      for await (const ent of d) {
        const p = join(dir, ent.name);
        let st;
        try {
          st = await lstat(p, { bigint: false });
        } catch {
          continue;
        }
        if (st.nlink > 1) {
          const id = `${st.dev}:${st.ino}`;
          if (seen.has(id)) continue;
          seen.add(id);
        }
        inodes++;
        if (ent.isDirectory()) stack.push(p);
        else size += st.size;
      }
    }
    return { size, inodes };
  }
}
