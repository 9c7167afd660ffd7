import { mkdir, readdir, readFile, realpath, rm, stat } from "node:fs/promises";
import { Mutex } from "../util/mutex.js";
import { join } from "node:path";
import { conflict, invalidArgument, notFound, isNotFound } from "../errdefs/index.js";
import { atomicWriteJson, newId } from "../util/index.js";
import { execFileCapture } from "../sys/exec.js";
import type { Filters, MountPoint, MountSpec } from "../spec/engine.js";
import type { OciMount } from "../spec/oci-runtime.js";
import type { EventSink } from "./events.js";
import {
  LocalVolumeStore, ANONYMOUS_LABEL, parseBindSpec, parseMountSpec, parseTmpfs, type MountIntent, type Volume,
} from "../volumes/index.js";

export interface VolumeCreateBody { Name?: string; Driver?: string; DriverOpts?: Record<string, string> | null; Labels?: Record<string, string> | null }

/** What the containers side hands over: HostConfig.Binds/Mounts/Tmpfs/VolumesFrom and the image's Config.Volumes. */
export interface MountPlanRequest {
  binds?: string[] | null;
  mounts?: MountSpec[] | null;
  tmpfs?: Record<string, string> | null;
  /** "<container id>[:ro|rw]"; the id as the containers side resolved it */
  volumesFrom?: string[] | null;
  imageVolumes?: Record<string, object> | null;
}

export interface MountPlan { mounts: OciMount[]; mountPoints: MountPoint[] }

export interface VolumesService {
  create(body: VolumeCreateBody): Promise<Volume>;
  list(opts?: { filters?: Filters }): Promise<{ Volumes: Volume[]; Warnings: string[] }>;
  inspect(name: string): Promise<Volume>;
  remove(name: string, opts?: { force?: boolean }): Promise<void>;
  prune(opts?: { filters?: Filters }): Promise<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>;
  /** At container create: make the volumes, record their use by the container, return its OCI mounts. */
  plan(req: MountPlanRequest, containerId: string): Promise<MountPlan>;
  /** At container start, with its rootfs mounted: fill empty volumes from the image (Docker's copy-up). Idempotent. */
  populate(containerId: string, rootfs: string): Promise<void>;
  /** The plan recorded for a container (inspect's Mounts, the OCI mounts at start), or null. */
  planned(containerId: string): Promise<MountPlan | null>;
  /** At container removal: drop its use; with removeAnonymous also its anonymous volumes (rm -v). */
  release(containerId: string, opts?: { removeAnonymous?: boolean }): Promise<void>;
  /** At container exit: its volumes are no longer mounted (Docker's unmount events). */
  unmounted?(containerId: string): Promise<void>;
  /** For system df: every volume with UsageData. */
  df(): Promise<Volume[]>;
}

interface PlannedRecord extends MountIntent { volumeName: string; hostPath: string; copy: boolean }
interface ContainerRefs { containerId: string; mounts: PlannedRecord[] }

function ociOf(m: PlannedRecord): OciMount {
  if (m.type === "tmpfs") return { destination: m.destination, type: "tmpfs", source: "tmpfs", options: [...(m.tmpfsOptions ?? []), m.readOnly ? "ro" : "rw", "rprivate"] };
  const opts = [m.nonRecursive ? "bind" : "rbind", m.propagation || "rprivate"];
  if (m.readOnly) opts.push("ro");
  return { destination: m.destination, type: "bind", source: m.hostPath, options: opts };
}

function mountPointOf(m: PlannedRecord): MountPoint {
  if (m.type === "volume") return { Type: "volume", Name: m.volumeName, Source: m.hostPath, Destination: m.destination, Driver: "local", Mode: m.mode, RW: !m.readOnly, Propagation: "" };
  if (m.type === "tmpfs") return { Type: "tmpfs", Source: "", Destination: m.destination, Mode: m.mode, RW: !m.readOnly, Propagation: "" };
  return { Type: "bind", Source: m.hostPath, Destination: m.destination, Mode: m.mode, RW: !m.readOnly, Propagation: m.propagation };
}

function matchLabels(labels: Record<string, string>, want: string[]): boolean {
  return want.every((l) => { const [k, v] = l.split("=", 2); return k! in labels && (v === undefined || labels[k!] === v); });
}


/** Local volumes under <dataRoot>/volumes and the mount planning of containers. */
export class LocalVolumesService implements VolumesService {
  readonly store: LocalVolumeStore;
  readonly #refsDir: string;
  readonly #lock = new Mutex();
  readonly #events: EventSink | undefined;
  #ready: Promise<void> | null = null;

  constructor(opts: { dataRoot: string; events?: EventSink }) {
    this.store = new LocalVolumeStore(join(opts.dataRoot, "volumes"));
    this.#refsDir = join(opts.dataRoot, "volumes", ".refs");
    this.#events = opts.events;
  }

  /** Docker's LogVolumeEvent: the actor is the volume name; "local" is the only driver. */
  #emit(action: string, name: string, extra: Record<string, string> = {}): void {
    this.#events?.publish("volume", action, name, { driver: "local", ...extra });
  }

  #init(): Promise<void> {
    this.#ready ??= (async () => { await this.store.init(); await mkdir(this.#refsDir, { recursive: true }); })();
    return this.#ready;
  }

  async #allRefs(): Promise<ContainerRefs[]> {
    const out: ContainerRefs[] = [];
    for (const f of await readdir(this.#refsDir)) {
      if (!f.endsWith(".json")) continue;
      try { out.push(JSON.parse(await readFile(join(this.#refsDir, f), "utf8")) as ContainerRefs); } catch { /* torn temp */ }
    }
    return out;
  }

  async #refs(cid: string): Promise<ContainerRefs | null> {
    try { return JSON.parse(await readFile(join(this.#refsDir, `${cid}.json`), "utf8")) as ContainerRefs; } catch { return null; }
  }

  async #users(): Promise<Map<string, string[]>> {
    const users = new Map<string, string[]>();
    for (const r of await this.#allRefs()) {
      for (const m of r.mounts) if (m.type === "volume") users.set(m.volumeName, [...(users.get(m.volumeName) ?? []), r.containerId]);
    }
    return users;
  }

  async create(body: VolumeCreateBody): Promise<Volume> {
    await this.#init();
    if (body.Driver && body.Driver !== "local") throw notFound(`error looking up volume plugin ${body.Driver}: plugin "${body.Driver}" not found`);
    const name = body.Name || newId();
    return this.#lock.run(async () => {
      // Docker: creating an existing volume with the same driver returns it.
      if (await this.store.exists(name)) return this.store.get(name);
      const v = await this.store.create(name, { labels: body.Labels ?? {}, options: body.DriverOpts ?? {} });
      this.#emit("create", name);
      return v;
    });
  }

  async list(opts: { filters?: Filters } = {}): Promise<{ Volumes: Volume[]; Warnings: string[] }> {
    await this.#init();
    const f = opts.filters ?? {};
    for (const k of Object.keys(f)) if (!["name", "label", "dangling", "driver"].includes(k)) throw invalidArgument(`invalid filter '${k}'`);
    const users = await this.#users();
    const out = (await this.store.list()).filter((v) => {
      if (f.name?.length && !f.name.some((n) => v.Name.includes(n))) return false;
      if (f.driver?.length && !f.driver.includes(v.Driver)) return false;
      if (f.label?.length && !matchLabels(v.Labels, f.label)) return false;
      if (f.dangling?.length) {
        const d = f.dangling[0]!;
        if (!["true", "false", "1", "0"].includes(d)) throw invalidArgument(`invalid filter 'dangling=${d}'`);
        if ((d === "true" || d === "1") !== !users.has(v.Name)) return false;
      }
      return true;
    });
    return { Volumes: out.sort((a, b) => a.Name.localeCompare(b.Name)), Warnings: [] };
  }

  async inspect(name: string): Promise<Volume> {
    await this.#init();
    return this.store.get(name);
  }

  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.#init();
    await this.#lock.run(async () => {
      try { await this.store.get(name); } catch (err) { if (opts.force && isNotFound(err)) return; throw err; }
      const users = (await this.#users()).get(name);
      if (users?.length) throw conflict(`remove ${name}: volume is in use - [${users.join(", ")}]`);
      await this.store.remove(name);
      this.#emit("destroy", name);
    });
  }

  async prune(opts: { filters?: Filters } = {}): Promise<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }> {
    await this.#init();
    const f = opts.filters ?? {};
    const all = f.all?.[0] === "true" || f.all?.[0] === "1";
    return this.#lock.run(async () => {
      const users = await this.#users();
      const deleted: string[] = [];
      let space = 0;
      for (const v of await this.store.list()) {
        if (users.has(v.Name)) continue;
        if (!all && !(ANONYMOUS_LABEL in v.Labels)) continue;
        if (f.label?.length && !matchLabels(v.Labels, f.label)) continue;
        if (f["label!"]?.length && f["label!"].some((l) => matchLabels(v.Labels, [l]))) continue;
        const size = await this.store.size(v.Name);
        await this.store.remove(v.Name);
        this.#emit("destroy", v.Name);
        deleted.push(v.Name);
        space += Math.max(0, size);
      }
      return { VolumesDeleted: deleted.length ? deleted : null, SpaceReclaimed: space };
    });
  }

  async plan(req: MountPlanRequest, containerId: string): Promise<MountPlan> {
    await this.#init();
    const intents: MountIntent[] = [];
    for (const b of req.binds ?? []) intents.push(parseBindSpec(b));
    for (const m of req.mounts ?? []) intents.push(parseMountSpec(m));
    for (const [d, o] of Object.entries(req.tmpfs ?? {})) intents.push(parseTmpfs(d, o ?? ""));
    const seen = new Set<string>();
    for (const m of intents) {
      if (seen.has(m.destination)) throw invalidArgument(`Duplicate mount point: ${m.destination}`);
      seen.add(m.destination);
    }
    // --volumes-from: the other container's binds and volumes, at the same places, unless overridden here.
    const inherited: PlannedRecord[] = [];
    for (const spec of req.volumesFrom ?? []) {
      const [id, mode] = spec.split(":") as [string, string?];
      if (mode && mode !== "ro" && mode !== "rw") throw invalidArgument(`invalid mode for volumes-from: ${mode}`);
      const refs = await this.#refs(id);
      if (!refs) throw notFound(`No such container: ${id}`);
      for (const m of refs.mounts) {
        if (m.type === "tmpfs" || seen.has(m.destination)) continue;
        seen.add(m.destination);
        inherited.push({ ...m, readOnly: mode ? mode === "ro" : m.readOnly, copy: false });
      }
    }
    for (const dest of Object.keys(req.imageVolumes ?? {})) {
      let d: string;
      try { d = parseTmpfs(dest, "").destination; } catch { continue; }
      if (seen.has(d)) continue;
      seen.add(d);
      intents.push({ type: "volume", source: "", destination: d, readOnly: false, propagation: "", mode: "", noCopy: false, createHostPath: false });
    }

    return this.#lock.run(async () => {
      const created: string[] = [];
      const planned: PlannedRecord[] = [];
      try {
        for (const m of intents) {
          if (m.type === "tmpfs") { planned.push({ ...m, volumeName: "", hostPath: "", copy: false }); continue; }
          if (m.type === "bind") {
            const st = await stat(m.source).catch(() => null);
            if (!st) {
              if (!m.createHostPath) throw invalidArgument(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
              await mkdir(m.source, { recursive: true, mode: 0o755 });
            }
            planned.push({ ...m, volumeName: "", hostPath: m.source, copy: false });
            continue;
          }
          const anonymous = !m.source;
          const name = m.source || newId();
          let vol: Volume;
          if (await this.store.exists(name)) vol = await this.store.get(name);
          else {
            vol = await this.store.create(name, { labels: { ...(m.labels ?? {}), ...(anonymous ? { [ANONYMOUS_LABEL]: "" } : {}) }, options: m.driverOpts ?? {} });
            created.push(name);
          }
          await this.store.activate(vol);
          let hostPath = vol.Mountpoint;
          if (m.subpath) {
            const p = await realpath(join(vol.Mountpoint, m.subpath)).catch(() => "");
            if (!p || !(p + "/").startsWith(vol.Mountpoint + "/")) throw invalidArgument(`cannot access path ${m.subpath} in volume ${name}`);
            hostPath = p;
          }
          planned.push({ ...m, source: name, volumeName: name, hostPath, copy: !m.noCopy && !m.subpath });
        }
        planned.push(...inherited);
        planned.sort((a, b) => a.destination.split("/").length - b.destination.split("/").length);
        await atomicWriteJson(join(this.#refsDir, `${containerId}.json`), { containerId, mounts: planned } satisfies ContainerRefs);
      } catch (err) {
        for (const n of created) await this.store.remove(n).catch(() => {});
        throw err;
      }
      for (const n of created) this.#emit("create", n);
      return { mounts: planned.map(ociOf), mountPoints: planned.map(mountPointOf) };
    });
  }

  async planned(containerId: string): Promise<MountPlan | null> {
    await this.#init();
    const refs = await this.#refs(containerId);
    return refs ? { mounts: refs.mounts.map(ociOf), mountPoints: refs.mounts.map(mountPointOf) } : null;
  }

  async populate(containerId: string, rootfs: string): Promise<void> {
    await this.#init();
    await this.#lock.run(async () => {
      const refs = await this.#refs(containerId);
      for (const m of refs?.mounts ?? []) {
        if (m.type !== "volume") continue;
        this.#emit("mount", m.volumeName, { container: containerId, destination: m.destination, "read/write": String(!m.readOnly), propagation: m.propagation });
      }
      if (!refs || !refs.mounts.some((m) => m.copy)) return;
      const root = await realpath(rootfs);
      for (const m of refs.mounts) {
        if (!m.copy) continue;
        m.copy = false;
        const vol = await this.store.get(m.volumeName).catch(() => null);
        if (!vol) continue;
        await this.store.activate(vol);
        if ((await readdir(vol.Mountpoint)).length) continue;
        // Resolve inside the rootfs: a symlink in the image must not lead the copy out of it.
        const src = await realpath(join(root, m.destination)).catch(() => "");
        if (!src || !(src + "/").startsWith(root + "/")) continue;
        if (!(await stat(src)).isDirectory()) continue;
        const r = await execFileCapture("cp", ["-a", "--", `${src}/.`, `${vol.Mountpoint}/`]);
        if (r.code !== 0) throw invalidArgument(`copy image content into volume ${m.volumeName}: ${r.stderr.trim()}`);
      }
      await atomicWriteJson(join(this.#refsDir, `${containerId}.json`), refs);
    });
  }

  async release(containerId: string, opts: { removeAnonymous?: boolean } = {}): Promise<void> {
    await this.#init();
    await this.#lock.run(async () => {
      const refs = await this.#refs(containerId);
      if (!refs) return;
      await rm(join(this.#refsDir, `${containerId}.json`), { force: true });
      const users = await this.#users();
      for (const m of refs.mounts) {
        if (m.type !== "volume" || users.has(m.volumeName)) continue;
        const vol = await this.store.get(m.volumeName).catch(() => null);
        if (!vol) continue;
        if (opts.removeAnonymous && ANONYMOUS_LABEL in vol.Labels) {
          await this.store.remove(vol.Name);
          this.#emit("destroy", vol.Name);
        } else await this.store.deactivate(vol);
      }
    });
  }

  async unmounted(containerId: string): Promise<void> {
    await this.#init();
    for (const m of (await this.#refs(containerId))?.mounts ?? []) if (m.type === "volume") this.#emit("unmount", m.volumeName, { container: containerId });
  }

  async df(): Promise<Volume[]> {
    await this.#init();
    const users = await this.#users();
    const out: Volume[] = [];
    for (const v of await this.store.list()) out.push({ ...v, UsageData: { Size: await this.store.size(v.Name), RefCount: users.get(v.Name)?.length ?? 0 } });
    return out;
  }
}
