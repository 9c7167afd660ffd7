import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { conflict, notFound, invalidArgument } from "../errdefs/index.js";
import { atomicWriteJson } from "../util/index.js";
import { execFileCapture } from "../sys/exec.js";
import { isMountPoint, unmountAll } from "../sys/mount.js";
import { checkVolumeName } from "./mount-request.js";
import { diskUsage } from "./disk-usage.js";

/** Docker's Volume object. */
export interface Volume {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string>;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: "local";
  UsageData?: { Size: number; RefCount: number } | null;
}

export const ANONYMOUS_LABEL = "com.docker.volume.anonymous";

/** The local driver: <root>/<name>/_data, the record beside it; type/device/o options mounted on first use. */
export class LocalVolumeStore {
  constructor(readonly root: string) {}

  dir(name: string): string { return join(this.root, name); }
  dataPath(name: string): string { return join(this.root, name, "_data"); }

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o701 });
  }

  async get(name: string): Promise<Volume> {
    try {
      return JSON.parse(await readFile(join(this.dir(name), "volume.json"), "utf8")) as Volume;
    } catch {
      throw notFound(`get ${name}: no such volume`);
    }
  }

  async exists(name: string): Promise<boolean> {
    return this.get(name).then(() => true, () => false);
  }

  async list(): Promise<Volume[]> {
    const out: Volume[] = [];
    for (const n of await readdir(this.root)) {
      if (n.startsWith(".")) continue;
      try { out.push(await this.get(n)); } catch { /* half-made or foreign dir */ }
    }
    return out;
  }

  async create(name: string, opts: { labels?: Record<string, string>; options?: Record<string, string> }): Promise<Volume> {
    checkVolumeName(name);
    const options = opts.options ?? {};
    for (const k of Object.keys(options)) if (!["type", "device", "o", "size"].includes(k)) throw invalidArgument(`invalid option key: "${k}"`);
    if ((options.type || options.device) && !(options.type && options.device)) throw invalidArgument(`missing required option: "${options.type ? "device" : "type"}"`);
    if (options.type === "none" && options.o?.split(",").includes("bind")) {
      const st = await stat(options.device!).catch(() => null);
      if (!st) throw invalidArgument(`failed to mount local volume: mount ${options.device}:${this.dataPath(name)}, flags: 0x1000: no such file or directory`);
    }
    const vol: Volume = {
      CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"), Driver: "local", Labels: opts.labels ?? {}, Mountpoint: this.dataPath(name),
      Name: name, Options: Object.keys(options).length ? options : null, Scope: "local",
    };
    await mkdir(this.dataPath(name), { recursive: true, mode: 0o755 });
    await atomicWriteJson(join(this.dir(name), "volume.json"), vol);
    return vol;
  }

  /** Mount a volume with type/device options onto its _data (idempotent). Plain volumes need nothing. */
  async activate(v: Volume): Promise<void> {
    const o = v.Options;
    if (!o?.type || !o.device) return;
    if (await isMountPoint(v.Mountpoint)) return;
    const args = ["-t", o.type, ...(o.o ? ["-o", o.o] : []), o.device, v.Mountpoint];
    const r = await execFileCapture("mount", args);
    if (r.code !== 0) throw invalidArgument(`error while mounting volume '${v.Mountpoint}': failed to mount local volume: ${r.stderr.trim()}`);
  }

  async deactivate(v: Volume): Promise<void> {
    if (v.Options?.type) await unmountAll(v.Mountpoint);
  }

  async remove(name: string): Promise<void> {
    const v = await this.get(name);
    await this.deactivate(v);
    if (await isMountPoint(v.Mountpoint)) throw conflict(`remove ${name}: volume is still mounted`);
    await rm(this.dir(name), { recursive: true, force: true });
  }

  size(name: string): Promise<number> {
    return diskUsage(this.dataPath(name));
  }
}
