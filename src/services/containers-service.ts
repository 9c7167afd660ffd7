import { EventEmitter, once } from "node:events";
import { performance } from "node:perf_hooks";
import { watch, type FSWatcher } from "node:fs";
import { constants } from "node:fs";
import { lstat, mkdir, open, readdir, readFile, readlink, rm, stat, unlink, writeFile } from "node:fs/promises";
import { hostname as osHostname } from "node:os";
import { basename, dirname, join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import {
  conflict, EngineError, forbidden, invalidArgument, isNotFound, notFound, notImplemented, notModified, systemError,
} from "../errdefs/index.js";
import { applyChanges } from "../images/index.js";
import { extractArchive, listChanges, packDiff, packTree, resolveInRoot } from "../images/layer/index.js";
import type { Snapshotter } from "../snapshots/snapshotter.js";
import type {
  ChangeItem, ContainerConfig, ContainerCreateBody, ContainerInspect, ContainerSummary, EndpointSettings, Filters, HostConfig, PortBinding,
} from "../spec/engine.js";
import type { OciDevice, OciMount, SeccompProfile } from "../spec/oci-runtime.js";
import { cgroupPids, hostCpusets, oomKilled, removeCgroup } from "../sys/cgroups.js";
import { checkResources } from "../containers/resource-limits.js";
import { forwardStdin } from "../sys/attach-stdin.js";
import { launchConmon, RuntimeCreateError, type ConmonLaunch } from "../sys/conmon.js";
import { execFileCapture } from "../sys/exec.js";
import { gatherHostInfo, hostDevices, type HostInfo } from "../sys/host-facts.js";
import { isMountPoint, mountAll, unmountAll } from "../sys/mount.js";
import { isAlive, readPidFile } from "../sys/proc.js";
import { RuncRuntime } from "../sys/runc.js";
import { loadRecords, saveRecord, type ContainerRecord } from "../containers/container-record.js";
import { dropEntries, ENGINE_PLACEHOLDERS } from "../containers/drop-entries.js";
import { logEntries, readLines, tailOffset } from "../containers/k8s-log.js";
import { mergeConfig, pathAndArgs } from "../containers/merge-config.js";
import { mountPointOf, planMounts } from "../containers/mount-plan.js";
import { healthSettings, HealthMonitor, startingHealth, validateHealthConfig, validateHealthOnFailure } from "../containers/health-monitor.js";
import { execProbe } from "../containers/health-probe.js";
import { generateName, validateName } from "../containers/names.js";
import { buildOciSpec, parseSecurityOpts, parseSignal, resourcesOf } from "../containers/oci-spec.js";
import { nextBackoff, shouldRestart, validateRestartPolicy } from "../containers/restart-policy.js";
import { goArch } from "../containers/seccomp.js";
import { statusText } from "../containers/status-text.js";
import { resolveUser } from "../containers/user.js";
import { atomicWrite, newId, stopwatch, ZERO_TIME, type Logger } from "../util/index.js";
import type { AttachOptions as NetworkAttachOptions, AttachResult, NetworksService, PreparedAttach } from "./networks-service.js";
import type { VolumesService } from "./volumes-service.js";
import type { EventSink } from "./events.js";
import type {
  AttachOptions, ContainersService, ImagesService, ImageUsage, LogEntry, LogOptions, PathStat, WaitCondition,
} from "./types.js";

/** Docker's default profile, read from the source tree (tsc does not copy JSON) or a copy beside the build. */
function loadDefaultSeccomp(): SeccompProfile {
  const candidates = ["../../../src/containers/profiles/seccomp-default.json", "../containers/profiles/seccomp-default.json"];
  for (const rel of candidates) {
    try {
      return JSON.parse(readFileSync(fileURLToPath(new URL(rel, import.meta.url)), "utf8")) as SeccompProfile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  throw new Error("seccomp-default.json not found next to the build or in src/containers/profiles");
}

const SECCOMP_DEFAULT = loadDefaultSeccomp();

const INIT_CANDIDATES = ["/usr/bin/tini-static", "/usr/bin/catatonit", "/usr/libexec/podman/catatonit", "/usr/bin/tini"];
const RUNTIMES: Record<string, string> = { runc: "/usr/sbin/runc", crun: "/usr/bin/crun" };

interface Live {
  rec: ContainerRecord;
  dir: string;
  lock: Promise<unknown>;
  events: EventEmitter;          // "exit"(code), "stopped"(), "removed"(code)
  exitHandling: Promise<void> | null;
  restartTimer: NodeJS.Timeout | null;
  backoff: number;
  mountUsers: number;
  mountLock: Promise<unknown>;
  removed: boolean;
  health: HealthMonitor | null;
  /** --health-on-failure=restart is stopping it: the exit restarts it whatever the restart policy. */
  healthRestart: boolean;
  startedAtMs?: number;          // performance.now() when the last start finished (debug spans)
  cleanup?: Promise<void>;       // a removed --rm container's host cleanup, still running
  saving: Promise<unknown>;      // record writes, one at a time, so an older state never lands after a newer one
}

export interface ContainersServiceOptions {
  dataRoot: string;
  execRoot: string;
  runtime?: "runc" | "crun" | string;
  images: ImagesService;
  snapshotter: Snapshotter;
  logger: Logger;
  /** Networks (default bridge, user networks, ports); without it every container gets a fresh namespace with only loopback. */
  networks?: NetworksService;
  /** Named and anonymous volumes; without it only binds and tmpfs. */
  volumes?: VolumesService;
  /** Where Docker's container events go (create, start, die, oom, destroy, ...); none in unit tests. */
  events?: EventSink;
}

/** Containers on an OCI runtime under conmon, with Docker's semantics. */
export class LocalContainersService implements ContainersService, ImageUsage {
  readonly #root: string;
  readonly #execRoot: string;
  readonly #images: ImagesService;
  readonly #snap: Snapshotter;
  readonly #log: Logger;
  readonly #networks: NetworksService | undefined;
  readonly #volumes: VolumesService | undefined;
  readonly #events: EventSink | undefined;
  readonly #runtime: RuncRuntime;
  readonly #exitDir: string;
  readonly #byId = new Map<string, Live>();
  readonly #byName = new Map<string, string>();
  #host: HostInfo;
  #devices: OciDevice[] | null = null;
  #initBinary: string | undefined;
  #watcher: FSWatcher | null = null;
  #sweeper: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #cleanups = new Set<Promise<void>>();

  private constructor(o: ContainersServiceOptions, host: HostInfo, initBinary: string | undefined) {
    this.#root = join(o.dataRoot, "containers");
    this.#execRoot = o.execRoot;
    this.#images = o.images;
    this.#snap = o.snapshotter;
    this.#log = o.logger;
    this.#networks = o.networks;
    this.#volumes = o.volumes;
    this.#events = o.events;
    const rt = o.runtime ?? "runc";
    this.#runtime = new RuncRuntime(RUNTIMES[rt] ?? rt, join(o.execRoot, "runc"));
    this.#exitDir = join(o.execRoot, "exits");
    this.#host = host;
    this.#initBinary = initBinary;
  }

  static async open(o: ContainersServiceOptions): Promise<LocalContainersService> {
    await Promise.all([
      mkdir(join(o.dataRoot, "containers"), { recursive: true, mode: 0o710 }),
      mkdir(join(o.execRoot, "exits"), { recursive: true, mode: 0o700 }),
      mkdir(join(o.execRoot, "sock"), { recursive: true, mode: 0o700 }),
      mkdir(join(o.execRoot, "runc"), { recursive: true, mode: 0o700 }),
    ]);
    const [host, initBinary] = await Promise.all([
      gatherHostInfo(),
      (async () => {
        for (const c of INIT_CANDIDATES) if (await stat(c).then(() => true, () => false)) return c;
        return undefined;
      })(),
    ]);
    const svc = new LocalContainersService(o, host, initBinary);
    const { records, orphans } = await loadRecords(svc.#root);
    for (const id of orphans) await svc.#dropHalfCreated(id);
    for (const rec of records) svc.#adopt(rec);
    svc.#watchExits();
    return svc;
  }

  // ---------------------------------------------------------------- bookkeeping

  #adopt(rec: ContainerRecord): Live {
    const live: Live = {
      rec, dir: join(this.#root, rec.id), lock: Promise.resolve(), events: new EventEmitter(), exitHandling: null,
      restartTimer: null, backoff: 0, mountUsers: 0, mountLock: Promise.resolve(), removed: false, health: null, healthRestart: false,
      saving: Promise.resolve(),
    };
    live.events.setMaxListeners(0);
    this.#byId.set(rec.id, live);
    this.#byName.set(rec.name, rec.id);
    return live;
  }

  async #dropHalfCreated(id: string): Promise<void> {
    const dir = join(this.#root, id);
    await unmountAll(join(dir, "bundle", "rootfs")).catch(() => {});
    await this.#snap.remove(id).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }

  #watchExits(): void {
    try {
      this.#watcher = watch(this.#exitDir, (_ev, file) => {
        if (!file) return;
        const id = String(file);
        if (this.#byId.has(id)) void this.#onExitFile(id);
      });
      this.#watcher.on("error", (err) => this.#log.warn("exit watcher failed", { err }));
    } catch (err) {
      this.#log.warn("cannot watch exit dir", { err });
    }
    // inotify can overflow or miss a rename; a slow sweep makes a lost event cost seconds, not forever.
    this.#sweeper = setInterval(() => {
      void readdir(this.#exitDir).then((names) => {
        for (const id of names) if (this.#byId.has(id)) void this.#onExitFile(id);
      }, () => {});
    }, 2000);
    this.#sweeper.unref();
  }

  /** Docker's Actor attributes for a container: its labels, image and name, then the action's own. */
  #emit(live: Live, action: string, extra: Record<string, string> = {}): void {
    const r = live.rec;
    this.#events?.publish("container", action, r.id, { ...(r.config.Labels ?? {}), image: r.config.Image ?? r.image, name: r.name.slice(1), ...extra });
  }

  #locked<T>(live: Live, fn: () => Promise<T>): Promise<T> {
    const run = live.lock.then(fn, fn);
    live.lock = run.catch(() => {});
    return run;
  }

  #find(ref: string): Live {
    if (!ref) throw notFound("No such container: ");
    const direct = this.#byId.get(ref);
    if (direct) return direct;
    const byName = this.#byName.get(ref.startsWith("/") ? ref : `/${ref}`);
    if (byName) return this.#byId.get(byName)!;
    if (/^[a-f0-9]+$/.test(ref)) {
      const hits = [...this.#byId.keys()].filter((id) => id.startsWith(ref));
      if (hits.length === 1) return this.#byId.get(hits[0]!)!;
      if (hits.length > 1) throw invalidArgument(`multiple IDs found with provided prefix: ${ref}`);
    }
    throw notFound(`No such container: ${ref}`);
  }

  /** Write the record as it is when its turn comes; writes of one container never overlap or reorder. */
  #save(live: Live): Promise<void> {
    if (live.removed) return Promise.resolve();
    const run = live.saving.then(() => (live.removed ? undefined : saveRecord(live.dir, live.rec)));
    live.saving = run.catch(() => {});
    return run;
  }

  #paths(live: Live) {
    const bundle = join(live.dir, "bundle");
    return {
      bundle, rootfs: join(bundle, "rootfs"), config: join(bundle, "config.json"), pidFile: join(live.dir, "pidfile"),
      conmonPid: join(live.dir, "conmon.pid"), log: join(live.dir, `${live.rec.id}-json.log`),
      hostname: join(live.dir, "hostname"), hosts: join(live.dir, "hosts"), resolvConf: join(live.dir, "resolv.conf"),
      exitFile: join(this.#exitDir, live.rec.id), persist: join(live.dir, "persist"),
    };
  }

  #cgroupsPath(rec: ContainerRecord): string {
    return `${rec.hostConfig.CgroupParent || "/berth"}/${rec.id}`;
  }

  // ---------------------------------------------------------------- create

  async create(body: ContainerCreateBody, opts: { name?: string; platform?: string } = {}): Promise<{ Id: string; Warnings: string[] }> {
    if (!body || typeof body !== "object") throw invalidArgument("config cannot be empty in order to create a container");
    if (!body.Image) throw invalidArgument("No image specified");
    const hc: HostConfig = { ...(body.HostConfig ?? {}) };
    const warnings: string[] = [];
    let name: string;
    if (opts.name) {
      name = validateName(opts.name);
      this.#checkNameFree(name);
    } else {
      name = "";
      for (let i = 0; i < 10 && (!name || this.#byName.has(name)); i++) name = `/${generateName(i > 3 ? 1 : 0)}`;
    }
    validateRestartPolicy(hc.RestartPolicy, !!hc.AutoRemove);
    validateHealthConfig(body.Healthcheck);
    validateHealthOnFailure(hc.HealthOnFailure);
    parseSecurityOpts(hc.SecurityOpt);
    const planned = this.#volumes ? [] : planMounts(hc);
    let netMode = hc.NetworkMode || "default";
    if (netMode.startsWith("container:")) {
      if (!this.#networks) throw invalidArgument(`network mode ${netMode} is not supported yet`);
      netMode = hc.NetworkMode = `container:${this.#find(netMode.slice("container:".length)).rec.id}`;
    }
    // An unknown network is not checked here but at start, as dockerd does: a 404 from create makes the docker CLI pull the image.
    if (!hc.NetworkMode) hc.NetworkMode = "default";
    const volumesFrom = (hc.VolumesFrom ?? []).map((v) => {
      const [ref, mode] = v.split(":") as [string, string?];
      return `${this.#find(ref).rec.id}${mode ? `:${mode}` : ""}`;
    });
    if (hc.Init && !this.#initBinary) throw invalidArgument("--init: no init binary (tini-static or catatonit) found on the host");
    checkResources(hc, await hostCpusets());

    const sw = stopwatch(this.#log, "create");
    const image = await this.#images.resolve(body.Image);
    sw.lap("image");
    const config = mergeConfig(image.config, body);
    const id = newId();
    if (!config.Hostname) config.Hostname = netMode === "host" ? osHostname() : id.slice(0, 12);
    config.Image = body.Image;
    if (hc.ShmSize === undefined || hc.ShmSize === 0) hc.ShmSize = 67108864;
    // Docker fills these in, and templates like {{.HostConfig.RestartPolicy.Name}} rely on them.
    if (!hc.RestartPolicy?.Name) hc.RestartPolicy = { Name: "no", MaximumRetryCount: 0 };
    if (!hc.LogConfig?.Type) hc.LogConfig = { Type: "json-file", Config: {} };
    if (!hc.IpcMode) hc.IpcMode = "private";
    if (!hc.CgroupnsMode) hc.CgroupnsMode = this.#host.cgroupV2 ? "private" : "host";
    if (!config.Labels) config.Labels = {};
    // Validate the spec once now so bad input fails at create, as Docker's does.
    buildOciSpec({
      id, config, hostConfig: hc, rootfs: "/", user: { uid: 0, gid: 0 }, mounts: planned, files: null,
      ...(this.#initBinary ? { initBinary: this.#initBinary } : {}),
      seccompDefault: SECCOMP_DEFAULT, host: { ...this.#host, arch: goArch(), devices: await this.#hostDevices(hc) },
    });
    sw.lap("validate");

    if (this.#byName.has(name)) this.#checkNameFree(name);
    const dir = join(this.#root, id);
    await mkdir(join(dir, "bundle", "rootfs"), { recursive: true, mode: 0o710 });
    let prepared = false;
    let volumesPlanned = false;
    try {
      await this.#snap.prepare(id, image.topSnapshot, { labels: { "berth.container": id } });
      prepared = true;
      sw.lap("snapshot");
      const { path, args } = pathAndArgs(config);
      let mountPoints = planned.map(mountPointOf);
      if (this.#volumes) {
        const plan = await this.#volumes.plan({ binds: hc.Binds ?? null, mounts: hc.Mounts ?? null, tmpfs: hc.Tmpfs ?? null, volumesFrom, imageVolumes: config.Volumes ?? null }, id);
        volumesPlanned = true;
        mountPoints = plan.mountPoints;
      }
      const netName = netMode === "default" ? "bridge" : netMode.startsWith("container:") ? "" : netMode;
      // The CLI names the default network "default" in EndpointsConfig; it is the network "bridge".
      const endpointsConfig = Object.fromEntries(Object.entries(body.NetworkingConfig?.EndpointsConfig ?? {}).map(([k, v]) => [k === "default" ? "bridge" : k, v]));
      const rec: ContainerRecord = {
        id, name, created: new Date().toISOString(), image: body.Image, imageId: image.id, config, hostConfig: hc,
        networking: netName ? { [netName]: blankEndpoint(endpointsConfig[netName]) } : {},
        endpointsConfig: Object.keys(endpointsConfig).length ? endpointsConfig : null,
        path, args, snapshotKey: id, platform: "linux", mounts: mountPoints, restartCount: 0,
        manuallyStopped: false, hasBeenStarted: false,
        state: { status: "created", pid: 0, conmonPid: 0, exitCode: 0, error: "", startedAt: ZERO_TIME, finishedAt: ZERO_TIME, oomKilled: false },
      };
      // Name clash from a concurrent create: checked again right before the record becomes visible.
      if (!opts.name) {
        for (let i = 0; this.#byName.has(rec.name) && i < 20; i++) rec.name = `/${generateName(1)}`;
        name = rec.name;
      }
      this.#checkNameFree(name);
      const live = this.#adopt(rec);
      try {
        sw.lap("prepare");
        if (!this.#networks) await this.#writeNetworkFiles(live);
        await saveRecord(dir, rec);
        sw.lap("save");
        sw.done();
      } catch (err) {
        this.#byId.delete(id);
        this.#byName.delete(name);
        throw err;
      }
      this.#emit(live, "create");
      return { Id: id, Warnings: warnings };
    } catch (err) {
      if (prepared) await this.#snap.remove(id).catch(() => {});
      if (volumesPlanned) await this.#volumes?.release(id, { removeAnonymous: true }).catch(() => {});
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  #checkNameFree(name: string): void {
    const other = this.#byName.get(name);
    if (other) {
      throw conflict(`Conflict. The container name "${name}" is already in use by container "${other}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
  }

  async #hostDevices(hc: HostConfig): Promise<OciDevice[]> {
    if (!hc.Privileged && !hc.Devices?.length) return [];
    this.#devices ??= await hostDevices();
    return this.#devices;
  }

  async #writeNetworkFiles(live: Live): Promise<void> {
    const p = this.#paths(live);
    const { config: c, hostConfig: hc } = live.rec;
    let hosts: string;
    if (hc.NetworkMode === "host") {
      hosts = await readFile("/etc/hosts", "utf8").catch(() => "127.0.0.1\tlocalhost\n");
    } else {
      hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::\tip6-localnet\nff00::\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";
    }
    for (const e of hc.ExtraHosts ?? []) {
      const i = e.indexOf(":");
      if (i < 0) throw invalidArgument(`invalid IP address in add-host: ""`);
      const ip = e.slice(i + 1);
      hosts += `${ip === "host-gateway" ? "127.0.0.1" : ip}\t${e.slice(0, i)}\n`;
    }
    // Never the host's resolv.conf: its resolver is not reachable from a container (and is off-machine here).
    const ns = hc.Dns?.length ? hc.Dns : ["127.0.0.11"];
    let resolv = ns.map((n) => `nameserver ${n}`).join("\n") + "\n";
    if (hc.DnsSearch?.length) resolv += `search ${hc.DnsSearch.join(" ")}\n`;
    if (hc.DnsOptions?.length) resolv += `options ${hc.DnsOptions.join(" ")}\n`;
    await Promise.all([
      atomicWrite(p.hostname, `${c.Hostname}\n`),
      atomicWrite(p.hosts, hosts),
      atomicWrite(p.resolvConf, resolv),
    ]);
  }

  // ---------------------------------------------------------------- mounts

  /** Mount and unmount of one rootfs are serialized, so a release never unmounts under a new user. */
  #mountOp<T>(live: Live, fn: () => Promise<T>): Promise<T> {
    const run = live.mountLock.then(fn, fn);
    live.mountLock = run.catch(() => {});
    return run;
  }

  #mountRootfs(live: Live): Promise<string> {
    return this.#mountOp(live, async () => {
      const { rootfs } = this.#paths(live);
      if (!(await isMountPoint(rootfs))) {
        await mkdir(rootfs, { recursive: true });
        await mountAll(await this.#snap.mounts(live.rec.snapshotKey), rootfs);
      }
      live.mountUsers++;
      return rootfs;
    });
  }

  #releaseRootfs(live: Live): Promise<void> {
    return this.#mountOp(live, async () => {
      live.mountUsers = Math.max(0, live.mountUsers - 1);
      if (live.mountUsers === 0) await unmountAll(this.#paths(live).rootfs);
    });
  }

  /** Run fn with the rootfs mounted (mounting a stopped container's rootfs for the duration). */
  async #withRootfs<T>(live: Live, fn: (rootfs: string) => Promise<T>): Promise<T> {
    const rootfs = await this.#mountRootfs(live);
    try {
      return await fn(rootfs);
    } finally {
      await this.#releaseRootfs(live);
    }
  }

  // ---------------------------------------------------------------- start

  async start(ref: string): Promise<void> {
    const live = this.#find(ref);
    await this.#locked(live, async () => {
      if (live.exitHandling) await live.exitHandling;
      const st = live.rec.state.status;
      if (st === "paused") throw conflict("cannot start a paused container, try unpause instead");
      if (st === "running") throw notModified("container already started");
      if (st === "removing" || st === "dead") throw conflict(`cannot start a container in state ${st}`);
      live.rec.manuallyStopped = false;
      await this.#startLocked(live);
    });
  }

  async #startLocked(live: Live): Promise<void> {
    const rec = live.rec;
    const p = this.#paths(live);
    if (live.restartTimer) { clearTimeout(live.restartTimer); live.restartTimer = null; }
    let mounted = false;
    let net: PreparedAttach | null = null;
    let joining: Promise<AttachResult | null> = Promise.resolve(null);
    let monitor: ConmonLaunch | null = null;
    const sw = stopwatch(this.#log, "start");
    try {
      const stale = await stat(join(this.#runtime.root, rec.id)).then(() => true, () => false);
      await Promise.all([unlink(p.exitFile).catch(() => {}), stale ? this.#runtime.delete(rec.id, true).catch(() => {}) : null]);
      sw.lap("stale");
      // A stale config.json must never reach the runtime: the monitor launched next creates from whatever is there.
      await rm(p.config, { force: true });
      monitor = launchConmon({
        runtime: this.#runtime.binary, runtimeRoot: this.#runtime.root, id: rec.id, name: rec.name.slice(1), bundle: p.bundle,
        pidFile: p.pidFile, conmonPidFile: p.conmonPid, exitDir: this.#exitDir, socketDir: join(this.#execRoot, "sock"),
        persistDir: p.persist, logPath: p.log, stdin: !!rec.config.OpenStdin, stdinOnce: !!rec.config.StdinOnce && !rec.config.Tty, tty: !!rec.config.Tty,
      });
      const planned = this.#volumes ? [] : planMounts(rec.hostConfig);
      // The rootfs (mount, volumes, users) and the network endpoint do not depend on each other: both at once.
      const rootfsWork = (async () => {
        await this.#mountRootfs(live);
        mounted = true;
        sw.at("mount");
        let ociMounts: OciMount[] = [];
        if (this.#volumes) {
          await this.#volumes.populate(rec.id, p.rootfs);
          ociMounts = (await this.#volumes.planned(rec.id))?.mounts ?? [];
        }
        await Promise.all(planned.filter((m) => m.type === "bind").map(async (m) => {
          const exists = await stat(m.source).then(() => true, () => false);
          if (exists) return;
          if (!m.createHostPath) throw invalidArgument(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
          await mkdir(m.source, { recursive: true, mode: 0o755 });
        }));
        const [passwd, group, devices] = await Promise.all([
          this.#readInRoot(p.rootfs, "/etc/passwd"),
          this.#readInRoot(p.rootfs, "/etc/group"),
          this.#hostDevices(rec.hostConfig),
          mkdir(p.persist, { recursive: true }),
          rm(join(p.persist, "oom"), { force: true }),
        ]);
        return { ociMounts, passwd, group, devices };
      })();
      // The endpoint in two halves: prepare (addresses, namespace, files) is all `runtime create` needs; the join
      // (interfaces, port rules) runs from then on, alongside the rest of the start, and is awaited before exec.fifo.
      const netWork = (async (): Promise<PreparedAttach | null> => {
        if (!this.#networks) return null;
        await this.#networks.detach(rec.id);
        const r = await this.#networks.prepare(rec.id, this.#attachOptions(rec)).catch(async (err: unknown) => {
          // A removed --rm container may still hold an address or a published port until its cleanup finishes.
          if (!this.#cleanups.size) throw err;
          await this.settled();
          return this.#networks!.prepare(rec.id, this.#attachOptions(rec));
        });
        sw.at("net-prepare");
        joining = r.join().then((j) => { sw.at("net-join"); return j; });
        joining.catch(() => {}); // awaited below or in the catch
        return r;
      })();
      // Both settle before either failure is handled, so the catch below knows what to undo.
      const [rootfsDone, netDone] = await Promise.allSettled([rootfsWork, netWork]);
      sw.lap("rootfs-net");
      if (netDone.status === "fulfilled" && netDone.value) net = netDone.value;
      if (rootfsDone.status === "rejected") throw rootfsDone.reason;
      if (netDone.status === "rejected") throw netDone.reason;
      const { ociMounts, passwd, group, devices } = rootfsDone.value;
      const user = resolveUser(rec.config.User, passwd, group, rec.hostConfig.GroupAdd ?? []);
      const spec = buildOciSpec({
        id: rec.id, config: rec.config, hostConfig: rec.hostConfig, rootfs: p.rootfs, user, mounts: planned, ociMounts,
        files: net ? { hostname: net.hostnameFile, hosts: net.hostsFile, resolvConf: net.resolvConf } : { hostname: p.hostname, hosts: p.hosts, resolvConf: p.resolvConf },
        ...(net?.netnsPath ? { netnsPath: net.netnsPath } : {}),
        ...(this.#initBinary ? { initBinary: this.#initBinary } : {}),
        seccompDefault: SECCOMP_DEFAULT, host: { ...this.#host, arch: goArch(), devices },
      });
      // config.json is regenerated on every start, so it needs no fsync (two fewer syncs on the hot path).
      await writeFile(p.config, JSON.stringify(spec));
      sw.lap("spec");
      const [created, joined] = await Promise.allSettled([monitor.create().then((c) => { sw.at("created"); return c; }), joining]);
      sw.lap("conmon-create");
      if (joined.status === "fulfilled" && joined.value) rec.networking = joined.value.endpoints;
      if (joined.status === "rejected") {
        // The join's error is the cause (its teardown may also have failed the create). A created container goes
        // before the mounts it holds.
        if (created.status === "fulfilled") await this.#runtime.delete(rec.id, true).catch(() => {});
        throw joined.reason;
      }
      if (created.status === "rejected") throw created.reason;
      const { pid } = created.value;
      live.events.emit("created");
      try {
        await this.#runtime.start(rec.id, pid);
        sw.lap("runc-start");
      } catch (err) {
        await this.#runtime.delete(rec.id, true).catch(() => {});
        throw err;
      }
      const conmonPid = (await readPidFile(p.conmonPid)) ?? 0;
      rec.state = {
        status: "running", pid, conmonPid, exitCode: 0, error: "", startedAt: new Date().toISOString(),
        finishedAt: rec.state.finishedAt, oomKilled: false,
      };
      rec.hasBeenStarted = true;
      this.#startHealth(live, true);
      // Not awaited: after a crash before it lands, restore() adopts the running container from the runtime's state.
      void this.#save(live).catch((err) => this.#log.warn("saving the started state failed", { id: rec.id, err }));
      sw.done();
      live.startedAtMs = performance.now();
      this.#emit(live, "start");
      // A fast process may have exited before the state was saved; the watcher event is then already handled or pending.
      if (await stat(p.exitFile).then(() => true, () => false)) void this.#onExitFile(rec.id);
    } catch (err) {
      (monitor as ConmonLaunch | null)?.abort();
      if (mounted) await this.#releaseRootfs(live).catch(() => {});
      if (net) {
        await joining.catch(() => {});
        await this.#networks!.detach(rec.id).catch((e) => this.#log.warn("network detach failed", { id: rec.id, err: e }));
        rec.networking = blankEndpoints(rec.networking);
      }
      rec.state.exitCode = 0;
      const e = this.#startError(err, rec);
      rec.state.error = e.message;
      if (!rec.state.exitCode) rec.state.exitCode = 128;
      if (rec.hasBeenStarted) { rec.state.status = "exited"; rec.state.finishedAt = new Date().toISOString(); }
      rec.state.pid = 0;
      await this.#save(live).catch(() => {});
      live.events.emit("exit", rec.state.exitCode);
      live.events.emit("stopped");
      if (rec.hostConfig.AutoRemove) {
        setImmediate(() => void this.#removeLocked(live, { force: true, volumes: true }).catch(() => {}));
      }
      throw e;
    }
  }

  #attachOptions(rec: ContainerRecord): NetworkAttachOptions {
    const c = rec.config;
    const hc = rec.hostConfig;
    return {
      name: rec.name.slice(1), networkMode: hc.NetworkMode || "default", endpointsConfig: rec.endpointsConfig ?? null,
      ...(rec.joinOnly ? { joinOnly: rec.joinOnly } : {}),
      portBindings: hc.PortBindings ?? null, publishAll: !!hc.PublishAllPorts, exposedPorts: c.ExposedPorts ?? null,
      dns: hc.Dns ?? [], dnsSearch: hc.DnsSearch ?? [], dnsOptions: hc.DnsOptions ?? [], extraHosts: hc.ExtraHosts ?? [],
      hostname: c.Hostname || rec.id.slice(0, 12), domainname: c.Domainname || "",
    };
  }

  /** Docker's translateContainerdStartErr: 127 for a missing command, 126 when it cannot be invoked. */
  #startError(err: unknown, rec: ContainerRecord): EngineError {
    if (err instanceof EngineError && err.kind !== "system") return err;
    const raw = err instanceof Error ? err.message : String(err);
    const desc = err instanceof RuntimeCreateError
      ? `failed to create task for container: failed to create shim task: OCI runtime create failed: ${raw}: unknown`
      : raw;
    const lower = desc.toLowerCase();
    const cmd = (rec.path || "").toLowerCase();
    if (lower.includes(cmd) && (lower.includes("executable file not found") || lower.includes("no such file or directory"))) {
      rec.state.exitCode = 127;
      return invalidArgument(desc);
    }
    if (lower.includes("permission denied")) {
      rec.state.exitCode = 126;
      return invalidArgument(desc);
    }
    if (lower.includes("not a directory")) {
      rec.state.exitCode = 127;
      return invalidArgument(`${desc}: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type`);
    }
    return systemError(desc);
  }

  async #readInRoot(rootfs: string, path: string): Promise<string | null> {
    try {
      return await readFile(await resolveInRoot(rootfs, path), "utf8");
    } catch {
      return null;
    }
  }

  // ---------------------------------------------------------------- exits

  #onExitFile(id: string): Promise<void> {
    const live = this.#byId.get(id);
    if (!live) return Promise.resolve();
    if (live.exitHandling) return live.exitHandling;
    const st = live.rec.state.status;
    if (st !== "running" && st !== "paused") return Promise.resolve();
    const run = this.#handleExit(live).catch((err) => this.#log.error("exit handling failed", { id, err }));
    live.exitHandling = run.finally(() => { live.exitHandling = null; });
    return live.exitHandling;
  }

  async #readExitCode(file: string): Promise<number | null> {
    for (let i = 0; i < 20; i++) {
      try {
        const text = (await readFile(file, "utf8")).trim();
        if (text) return Number(text);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw err;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return null;
  }

  async #handleExit(live: Live, lostCode?: number): Promise<void> {
    const rec = live.rec;
    const p = this.#paths(live);
    const sw = stopwatch(this.#log, "exit");
    const sinceStart = live.startedAtMs ? performance.now() - live.startedAtMs : 0;
    let code = lostCode ?? (await this.#readExitCode(p.exitFile));
    if (code === null) return;
    if (!Number.isFinite(code)) code = 255;
    const oom = await stat(join(p.persist, "oom")).then(() => true, () => false) || (await oomKilled(this.#cgroupsPath(rec)));
    const ranMs = Date.now() - Date.parse(rec.state.startedAt);
    rec.state = { ...rec.state, status: "exited", pid: 0, conmonPid: 0, exitCode: code, finishedAt: new Date().toISOString(), oomKilled: oom };
    this.#stopHealth(live, true);
    const restart = !this.#closed && !rec.hostConfig.AutoRemove
      && (live.healthRestart || shouldRestart(rec.hostConfig.RestartPolicy, code, rec.restartCount, rec.manuallyStopped));
    live.healthRestart = false;
    if (restart) rec.state.status = "restarting";
    sw.lap("read");
    // The exit file stays until the record holding the code is written, so waiters can be answered before that write:
    // a crash in between finds the exit file again (or, for --rm, finds a container to finish removing).
    const saved = this.#save(live);
    saved.catch(() => {}); // awaited below; a --rm container is removed whether or not it lands
    if (oom) this.#emit(live, "oom");
    this.#emit(live, "die", { exitCode: String(code) });
    live.events.emit("exit", code);
    live.events.emit("stopped");
    if (rec.hostConfig.AutoRemove && !restart) {
      // --rm: gone from the store now, its record still on disk until the cleanup ends, so restore() finishes a crashed one.
      void this.#volumes?.unmounted?.(rec.id).catch(() => {});
      this.#forget(live);
      live.cleanup = this.#inBackground(this.#cleanUp(live, { volumes: true }));
      sw.done({ "since-start": sinceStart.toFixed(1) });
      return;
    }
    await saved;
    sw.lap("save");
    await Promise.all([
      this.#runtime.delete(rec.id, true).catch((err) => this.#log.warn("runtime delete failed", { id: rec.id, err })),
      this.#releaseRootfs(live).catch((err) => this.#log.warn("unmount failed", { id: rec.id, err })),
    ]);
    sw.lap("delete-umount");
    await Promise.all([unlink(p.exitFile).catch(() => {}), removeCgroup(this.#cgroupsPath(rec)), this.#detachNetwork(live),
      this.#volumes?.unmounted?.(rec.id).catch(() => {}),
    ]);
    sw.lap("cgroup-net");
    sw.done({ "since-start": sinceStart.toFixed(1) });
    if (restart) {
      live.backoff = nextBackoff(live.backoff, ranMs);
      this.#scheduleRestart(live, live.backoff);
    }
  }

  async #detachNetwork(live: Live): Promise<void> {
    if (!this.#networks) return;
    await this.#networks.detach(live.rec.id).catch((err) => this.#log.warn("network detach failed", { id: live.rec.id, err }));
    live.rec.networking = blankEndpoints(live.rec.networking);
    await this.#save(live).catch(() => {});
  }

  #scheduleRestart(live: Live, delay: number): void {
    live.restartTimer = setTimeout(() => {
      live.restartTimer = null;
      if (this.#closed || live.removed || live.rec.state.status !== "restarting") return;
      void this.#locked(live, async () => {
        if (live.rec.state.status !== "restarting") return;
        if (live.rec.manuallyStopped) {
          live.rec.state.status = "exited";
          await this.#save(live);
          return;
        }
        live.rec.restartCount++;
        await this.#startLocked(live);
      }).catch((err) => this.#log.warn("restart failed", { id: live.rec.id, err }));
    }, delay);
    live.restartTimer.unref();
  }

  /** Resolves with the exit code of the next exit (or start failure). */
  #nextExit(live: Live, signal?: AbortSignal): Promise<number> {
    return once(live.events, "exit", signal ? { signal } : {}).then(([code]) => code as number);
  }

  // ---------------------------------------------------------------- stop / kill / restart

  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const live = this.#find(ref);
    live.rec.manuallyStopped = true;
    if (live.exitHandling) await live.exitHandling;
    const st = live.rec.state.status;
    if (st === "restarting") {
      if (live.restartTimer) { clearTimeout(live.restartTimer); live.restartTimer = null; }
      // A restart already under way finishes first; then it is stopped like any running container.
      const stillRestarting = await this.#locked(live, async () => {
        if (live.rec.state.status !== "restarting") return false;
        live.rec.state.status = "exited";
        await this.#save(live);
        return true;
      });
      if (stillRestarting) return;
    }
    const now = live.rec.state.status;
    if (now !== "running" && now !== "paused") throw notModified("container already stopped");
    live.rec.manuallyStopped = true;
    await this.#save(live);
    await this.#stopRunning(live, opts);
    this.#emit(live, "stop");
  }

  async #stopRunning(live: Live, opts: { timeout?: number; signal?: string }): Promise<void> {
    const rec = live.rec;
    const sig = parseSignal(opts.signal || rec.config.StopSignal || "SIGTERM");
    const timeout = opts.timeout ?? rec.config.StopTimeout ?? 10;
    const exited = this.#nextExit(live);
    if (rec.state.status === "paused") await this.#runtime.resume(rec.id).catch(() => {});
    const ok = await this.#signal(live, sig);
    if (ok && timeout !== 0) {
      const timer = timeout < 0 ? null : new Promise((r) => setTimeout(r, timeout * 1000).unref());
      const won = await Promise.race([exited.then(() => true), ...(timer ? [timer.then(() => false)] : [])]);
      if (won) return;
    }
    if (rec.state.status !== "running" && rec.state.status !== "paused") return;
    await this.#signal(live, 9, true);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000).unref())]);
  }

  /** Signal the container's init; false when it is already gone. */
  async #signal(live: Live, sig: number, all = false): Promise<boolean> {
    try {
      await this.#runtime.kill(live.rec.id, sig, all);
      this.#emit(live, "kill", { signal: String(sig) });
      return true;
    } catch (err) {
      if (live.rec.state.pid && (await isAlive(live.rec.state.pid))) {
        process.kill(live.rec.state.pid, sig);
        this.#emit(live, "kill", { signal: String(sig) });
        return true;
      }
      const p = this.#paths(live);
      if (await stat(p.exitFile).then(() => true, () => false)) { void this.#onExitFile(live.rec.id); return false; }
      throw err;
    }
  }

  async restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const live = this.#find(ref);
    const st = live.rec.state.status;
    if (st === "running" || st === "paused") {
      live.rec.manuallyStopped = true;
      await this.#stopRunning(live, opts);
      this.#emit(live, "stop");
    }
    if (live.exitHandling) await live.exitHandling;
    await this.#locked(live, async () => {
      if (live.rec.state.status === "running") return;
      live.rec.manuallyStopped = false;
      if (live.restartTimer) { clearTimeout(live.restartTimer); live.restartTimer = null; }
      await this.#startLocked(live);
    });
    this.#emit(live, "restart");
  }

  async kill(ref: string, signal?: string): Promise<void> {
    const live = this.#find(ref);
    const sig = parseSignal(signal || "SIGKILL");
    const st = live.rec.state.status;
    if (st !== "running" && st !== "paused") throw conflict(`Container ${live.rec.id} is not running`);
    const stopSig = parseSignal(live.rec.config.StopSignal || "SIGTERM");
    if (sig === 9 || sig === stopSig) {
      live.rec.manuallyStopped = true;
      await this.#save(live);
    }
    if (st === "paused" && sig === 9) {
      await this.#signal(live, sig, true);
      await this.#runtime.resume(live.rec.id).catch(() => {});
      return;
    }
    await this.#signal(live, sig);
  }

  async pause(ref: string): Promise<void> {
    const live = this.#find(ref);
    await this.#locked(live, async () => {
      const st = live.rec.state.status;
      if (st === "paused") throw conflict(`Container ${live.rec.id} is already paused`);
      if (st !== "running") throw conflict(`Container ${live.rec.id} is not running`);
      await this.#runtime.pause(live.rec.id);
      live.rec.state.status = "paused";
      this.#stopHealth(live, true);
      await this.#save(live);
      this.#emit(live, "pause");
    });
  }

  async unpause(ref: string): Promise<void> {
    const live = this.#find(ref);
    await this.#locked(live, async () => {
      if (live.rec.state.status !== "paused") throw conflict(`Container ${live.rec.id} is not paused`);
      await this.#runtime.resume(live.rec.id);
      live.rec.state.status = "running";
      this.#startHealth(live, false);
      await this.#save(live);
      this.#emit(live, "unpause");
    });
  }

  // ---------------------------------------------------------------- wait / remove

  async wait(ref: string, condition: WaitCondition = "not-running", signal?: AbortSignal): Promise<{ StatusCode: number; Error?: { Message: string } | null }> {
    const live = this.#find(ref);
    const result = (code: number) => ({ StatusCode: code, Error: null });
    if (condition === "removed") {
      if (live.removed) return result(live.rec.state.exitCode);
      const [code] = await once(live.events, "removed", signal ? { signal } : {});
      return result(code as number);
    }
    const st = live.rec.state.status;
    if (condition === "not-running" && st !== "running" && st !== "paused" && st !== "restarting" && !live.exitHandling) {
      return result(live.rec.state.exitCode);
    }
    if (condition === "not-running" && live.exitHandling) {
      await live.exitHandling;
      return result(live.rec.state.exitCode);
    }
    const removed = once(live.events, "removed", signal ? { signal } : {}).then(([c]) => c as number);
    const code = await Promise.race([this.#nextExit(live, signal), removed]);
    return result(code);
  }

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean; link?: boolean } = {}): Promise<void> {
    const live = this.#find(ref);
    if (opts.link) throw invalidArgument("Conflict, cannot remove the default link name of the container");
    await this.#removeLocked(live, opts);
  }

  async #removeLocked(live: Live, opts: { force?: boolean; volumes?: boolean }): Promise<void> {
    const rec = live.rec;
    const st = rec.state.status;
    if (st === "restarting" && !opts.force) {
      throw conflict(`cannot remove container "${rec.name}": container is restarting: stop the container before removing or force remove`);
    }
    if ((st === "running" || st === "paused") && !opts.force) {
      if (st === "paused") throw conflict(`cannot remove container "${rec.name}": container is paused and must be unpaused first`);
      throw conflict(`cannot remove container "${rec.name}": container is running: stop the container before removing or force remove`);
    }
    if (live.removed) { if (live.cleanup) await live.cleanup; return; }
    if (st === "removing") throw conflict(`removal of container ${rec.id} is already in progress`);
    if (live.restartTimer) { clearTimeout(live.restartTimer); live.restartTimer = null; }
    if (st === "running" || st === "paused") {
      rec.manuallyStopped = true;
      const exited = this.#nextExit(live);
      await this.#signal(live, 9, true).catch(() => {});
      if (st === "paused") await this.#runtime.resume(rec.id).catch(() => {});
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
      if (live.exitHandling) await live.exitHandling;
    }
    if (live.exitHandling) await live.exitHandling;
    // An explicit remove answers only once the host is clean, also for a --rm container that removed itself meanwhile.
    if (live.cleanup) await live.cleanup;
    await this.#locked(live, async () => {
      if (live.removed) return;
      rec.state.status = "removing";
      // Persisted, so a crash in the middle of the cleanup is finished by restore() instead of leaving a half-removed container.
      await this.#save(live);
      live.removed = true;
      this.#byName.delete(rec.name);
      await this.#cleanUp(live, opts);
      this.#forget(live);
    });
  }

  /** Drop a container from the store and tell its waiters (wait?condition=removed); its cleanup is the caller's. */
  #forget(live: Live): void {
    const rec = live.rec;
    rec.state.status = "removing";
    live.removed = true;
    if (live.restartTimer) { clearTimeout(live.restartTimer); live.restartTimer = null; }
    if (this.#byName.get(rec.name) === rec.id) this.#byName.delete(rec.name);
    this.#byId.delete(rec.id);
    this.#emit(live, "destroy");
    live.events.emit("stopped");
    live.events.emit("removed", rec.state.exitCode);
  }

  /**
   * Everything a removed container leaves on the host: runtime state, cgroup, rootfs mount, snapshot, network endpoint,
   * volumes, files. Idempotent; its record directory goes last, so a crash part-way is finished by restore().
   */
  async #cleanUp(live: Live, opts: { volumes?: boolean }): Promise<void> {
    const rec = live.rec;
    const p = this.#paths(live);
    const sw = stopwatch(this.#log, "cleanup");
    const lap = <T>(name: string, x: Promise<T>) => x.finally(() => sw.lap(name));
    await Promise.all([
      lap("runtime", (async () => {
        if (await stat(join(this.#runtime.root, rec.id)).then(() => true, () => false)) await this.#runtime.delete(rec.id, true).catch(() => {});
        await removeCgroup(this.#cgroupsPath(rec));
      })()),
      lap("rootfs", (async () => {
        await this.#mountOp(live, async () => { live.mountUsers = 0; await unmountAll(p.rootfs); });
        await this.#snap.remove(rec.snapshotKey).catch((err) => { if (!isNotFound(err)) throw err; });
      })()),
      lap("net", this.#networks?.forget(rec.id).catch((err) => this.#log.warn("network cleanup failed", { id: rec.id, err })) ?? Promise.resolve()),
      lap("volumes", this.#volumes?.release(rec.id, { removeAnonymous: !!opts.volumes }).catch((err) => this.#log.warn("volume release failed", { id: rec.id, err })) ?? Promise.resolve()),
      unlink(p.exitFile).catch(() => {}),
      rm(join(this.#execRoot, "sock", rec.id), { force: true }),
    ]);
    await live.saving;
    await rm(live.dir, { recursive: true, force: true });
    sw.lap("rm");
    sw.done();
  }

  /** Cleanups still running after their container left the store (see settled()). */
  #inBackground(work: Promise<void>): Promise<void> {
    const tracked = work.catch((err) => this.#log.warn("cleanup of a removed container failed", { err })).finally(() => this.#cleanups.delete(tracked));
    this.#cleanups.add(tracked);
    return tracked;
  }

  /** Resolves once every container removed so far has no host state left (mounts, endpoints, snapshots, files). */
  async settled(): Promise<void> {
    await Promise.all([...this.#cleanups]);
  }

  // ---------------------------------------------------------------- views

  async list(opts: { all?: boolean; limit?: number; size?: boolean; filters?: Filters } = {}): Promise<ContainerSummary[]> {
    const f = opts.filters ?? {};
    let lives = [...this.#byId.values()].filter((l) => !l.removed);
    lives.sort((a, b) => Date.parse(b.rec.created) - Date.parse(a.rec.created) || (b.rec.id < a.rec.id ? -1 : 1));
    const all = opts.all || (opts.limit ?? 0) > 0 || Object.keys(f).some((k) => ["status", "exited", "before", "since"].includes(k) && f[k]!.length);
    const known = ["id", "name", "label", "status", "exited", "ancestor", "before", "since", "network", "volume", "health", "isolation", "is-task", "publish", "expose"];
    for (const k of Object.keys(f)) if (!known.includes(k)) throw invalidArgument(`invalid filter '${k}'`);
    for (const h of f.health ?? []) {
      if (!["starting", "healthy", "unhealthy", "none"].includes(h)) throw invalidArgument(`Unrecognised filter value for health: ${h}`);
    }
    for (const s of f.status ?? []) {
      if (!["created", "restarting", "running", "removing", "paused", "exited", "dead"].includes(s)) throw invalidArgument(`invalid filter 'status=${s}'`);
    }
    const created = (ref: string) => {
      const l = this.#find(ref);
      return Date.parse(l.rec.created);
    };
    const before = f.before?.length ? created(f.before[0]!) : null;
    const since = f.since?.length ? created(f.since[0]!) : null;
    let ancestors: Set<string> | null = null;
    if (f.ancestor?.length) {
      ancestors = new Set();
      for (const a of f.ancestor) {
        try { ancestors.add((await this.#images.resolve(a)).id); } catch { ancestors.add(a); }
      }
    }
    lives = lives.filter((l) => {
      const r = l.rec;
      const st = r.state.status;
      if (!all && st !== "running" && st !== "paused" && st !== "restarting") return false;
      if (f.id?.length && !f.id.some((x) => r.id.startsWith(x))) return false;
      const bare = r.name.slice(1);
      if (f.name?.length && !f.name.some((x) => {
        try { const re = new RegExp(x); return re.test(r.name) || re.test(bare); } catch { return r.name.includes(x); }
      })) return false;
      if (f.status?.length && !f.status.includes(st)) return false;
      if (f.exited?.length && !(st === "exited" && f.exited.includes(String(r.state.exitCode)))) return false;
      if (f.health?.length && !f.health.includes(r.health?.Status ?? "none")) return false;
      if (f.label?.length) {
        const labels = r.config.Labels ?? {};
        for (const lf of f.label) {
          const i = lf.indexOf("=");
          if (i < 0 ? !(lf in labels) : labels[lf.slice(0, i)] !== lf.slice(i + 1)) return false;
        }
      }
      if (ancestors && !ancestors.has(r.imageId) && !ancestors.has(r.image)) return false;
      if (before !== null && !(Date.parse(r.created) < before)) return false;
      if (since !== null && !(Date.parse(r.created) > since)) return false;
      return true;
    });
    if (opts.limit && opts.limit > 0) lives = lives.slice(0, opts.limit);
    return Promise.all(lives.map(async (l) => {
      const r = l.rec;
      const net = await this.#networks?.settings(r.id).catch(() => null) ?? null;
      const s: ContainerSummary = {
        Id: r.id, Names: [r.name], Image: r.image, ImageID: r.imageId, Command: commandText(r.path, r.args),
        Created: Math.floor(Date.parse(r.created) / 1000), Ports: net ? portList(net.ports) : [], Labels: r.config.Labels ?? {}, State: r.state.status,
        Status: statusText({ status: r.state.status, exitCode: r.state.exitCode, startedAt: r.state.startedAt, finishedAt: r.state.finishedAt, health: r.health?.Status }),
        HostConfig: { NetworkMode: r.hostConfig.NetworkMode || "default" }, NetworkSettings: { Networks: { ...(net?.endpoints ?? r.networking) } }, Mounts: r.mounts,
      };
      if (opts.size) Object.assign(s, await this.#sizes(l));
      return s;
    }));
  }

  async #sizes(l: Live): Promise<{ SizeRw: number; SizeRootFs: number }> {
    const rw = await this.#snap.usage(l.rec.snapshotKey).then((u) => u.size, () => 0);
    const img = await this.#images.inspect(l.rec.imageId).then((i) => i.Size, () => 0);
    return { SizeRw: rw, SizeRootFs: rw + img };
  }

  async inspect(ref: string, opts: { size?: boolean } = {}): Promise<ContainerInspect> {
    const l = this.#find(ref);
    const r = l.rec;
    const p = this.#paths(l);
    const s = r.state;
    const upper = await this.#snap.dir(r.snapshotKey).catch(() => "");
    const lowers = await this.#snap.parentDirs(r.snapshotKey).catch(() => [] as string[]);
    const net = await this.#networks?.settings(r.id).catch(() => null) ?? null;
    const networks = { ...(net?.endpoints ?? r.networking) };
    const primary = networks["bridge"];
    const out: ContainerInspect = {
      Id: r.id, Created: r.created, Path: r.path, Args: r.args,
      State: {
        Status: s.status, Running: s.status === "running" || s.status === "paused", Paused: s.status === "paused",
        Restarting: s.status === "restarting", OOMKilled: s.oomKilled, Dead: s.status === "dead", Pid: s.pid,
        ExitCode: s.exitCode, Error: s.error, StartedAt: s.startedAt, FinishedAt: s.finishedAt,
        ...(r.health ? { Health: r.health } : {}),
      },
      Image: r.imageId, ResolvConfPath: net?.resolvConf ?? p.resolvConf, HostnamePath: net?.hostnameFile ?? p.hostname, HostsPath: net?.hostsFile ?? p.hosts, LogPath: p.log,
      Name: r.name, RestartCount: r.restartCount, Driver: "overlay2", Platform: r.platform, MountLabel: "", ProcessLabel: "",
      AppArmorProfile: "", ExecIDs: null, HostConfig: r.hostConfig,
      GraphDriver: {
        Name: "overlay2",
        Data: upper ? { LowerDir: lowers.join(":"), UpperDir: upper, MergedDir: p.rootfs, WorkDir: join(dirname(upper), "work") } : null,
      },
      Mounts: r.mounts, Config: r.config,
      NetworkSettings: {
        Bridge: "", SandboxID: net?.netnsPath ? r.id : "", SandboxKey: net?.netnsPath ?? "", Ports: net?.ports ?? {}, Networks: networks,
        HairpinMode: false, LinkLocalIPv6Address: "", LinkLocalIPv6PrefixLen: 0,
        // Docker repeats the default bridge's endpoint at the top level (deprecated, still read by scripts).
        EndpointID: primary?.EndpointID ?? "", Gateway: primary?.Gateway ?? "", GlobalIPv6Address: "", GlobalIPv6PrefixLen: 0,
        IPAddress: primary?.IPAddress ?? "", IPPrefixLen: primary?.IPPrefixLen ?? 0, IPv6Gateway: "", MacAddress: primary?.MacAddress ?? "",
      },
    };
    if (opts.size) Object.assign(out, await this.#sizes(l));
    return out;
  }

  // ---------------------------------------------------------------- logs / attach

  async *logs(ref: string, opts: LogOptions): AsyncIterable<LogEntry> {
    const live = this.#find(ref);
    const p = this.#paths(live);
    const st = live.rec.state.status;
    let start = 0;
    if (opts.tail !== undefined && opts.tail !== "all" && opts.tail >= 0) {
      start = await tailOffset(p.log, opts.tail).catch(() => 0);
    }
    const following = !!opts.follow && (st === "running" || st === "paused" || st === "restarting");
    const until = following ? this.#untilStopped(live) : undefined;
    const lines = readLines(p.log, { start, ...(until ? { until } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
    const filter = {
      ...(opts.stdout !== undefined ? { stdout: opts.stdout } : {}), ...(opts.stderr !== undefined ? { stderr: opts.stderr } : {}),
      ...(opts.since ? { since: opts.since } : {}), ...(opts.until ? { until: opts.until } : {}),
    };
    yield* logEntries(lines, filter);
  }

  #untilStopped(live: Live): Promise<void> {
    return new Promise((resolve) => live.events.once("stopped", () => resolve()));
  }

  async *attach(ref: string, opts: AttachOptions): AsyncIterable<LogEntry> {
    const live = this.#find(ref);
    const p = this.#paths(live);
    if (!opts.stream && !opts.logs) return;
    let start = 0;
    if (!opts.logs) start = await stat(p.log).then((s) => s.size, () => 0);
    const st = live.rec.state.status;
    const alive = st === "running" || st === "paused" || st === "created" || st === "restarting" || st === "exited";
    if (opts.stream) this.#emit(live, "attach");
    const until = opts.stream && alive ? this.#untilStopped(live) : undefined;
    if (opts.stream && !alive) return;
    if (opts.stdin && live.rec.config.OpenStdin && until) {
      const src = opts.stdin;
      const go = () => void forwardStdin(p.bundle, src);
      if (st === "running" || st === "paused") go();
      else live.events.once("created", go);
    }
    const lines = readLines(p.log, { start, ...(until ? { until } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
    yield* logEntries(lines, { raw: true,
      ...(opts.stdout !== undefined ? { stdout: opts.stdout } : {}), ...(opts.stderr !== undefined ? { stderr: opts.stderr } : {}),
    });
  }

  // ---------------------------------------------------------------- misc

  async rename(ref: string, newName: string): Promise<void> {
    const live = this.#find(ref);
    if (!newName) throw invalidArgument("Neither old nor new names may be empty");
    const name = validateName(newName);
    if (name === live.rec.name) throw invalidArgument(`Renaming a container with the same name as its current name`);
    this.#checkNameFree(name);
    const old = live.rec.name;
    this.#byName.delete(old);
    this.#byName.set(name, live.rec.id);
    live.rec.name = name;
    try {
      await this.#save(live);
    } catch (err) {
      this.#byName.delete(name);
      this.#byName.set(old, live.rec.id);
      live.rec.name = old;
      throw err;
    }
    this.#emit(live, "rename", { oldName: old });
  }

  async connectNetwork(ref: string, network: string, opts: { aliases?: string[]; ip?: string } = {}): Promise<void> {
    const networks = this.#needNetworks();
    const live = this.#find(ref);
    const rec = live.rec;
    const name = await networks.checkConnect(network, opts);
    const settings: EndpointSettings = { ...blankEndpoint(), Aliases: opts.aliases?.length ? opts.aliases : null, IPAMConfig: opts.ip ? { IPv4Address: opts.ip } : null };
    if (networks.attached(rec.id)) await networks.connect(network, rec.id, opts);
    else {
      if (rec.hostConfig.NetworkMode === "host" || rec.hostConfig.NetworkMode?.startsWith("container:")) {
        throw forbidden("container sharing network namespace with another container or host cannot be connected to any other network");
      }
      if (await this.#networkKey(rec, name) !== undefined) throw forbidden(`endpoint with name ${rec.name.slice(1)} already exists in network ${name}`);
      rec.networking = { ...rec.networking, [name]: settings };
    }
    // Kept in the record as Docker keeps it in the container's config: joined again at every start.
    rec.endpointsConfig = { ...(rec.endpointsConfig ?? {}), [name]: settings };
    if (rec.joinOnly && !rec.joinOnly.includes(name)) rec.joinOnly = [...rec.joinOnly, name];
    await this.#save(live);
  }

  async disconnectNetwork(ref: string, network: string, opts: { force?: boolean } = {}): Promise<void> {
    const networks = this.#needNetworks();
    const live = this.#find(ref);
    const rec = live.rec;
    const name = await networks.nameOf(network);
    if (networks.attached(rec.id)) {
      await networks.disconnect(network, rec.id, opts);
      rec.joinOnly = Object.keys((await networks.settings(rec.id))?.endpoints ?? {});
    } else {
      const key = await this.#networkKey(rec, name);
      if (key === undefined) {
        if (opts.force) return;
        throw forbidden(`container ${rec.id} is not connected to network ${name}`);
      }
      const { [key]: _gone, ...rest } = rec.networking;
      rec.networking = rest;
      const remaining: string[] = [];
      for (const k of Object.keys(rest)) remaining.push(await networks.nameOf(k).catch(() => k));
      rec.joinOnly = remaining;
    }
    if (rec.endpointsConfig) {
      const { [name]: _dropped, ...kept } = rec.endpointsConfig;
      rec.endpointsConfig = Object.keys(kept).length ? kept : null;
    }
    await this.#save(live);
  }

  #needNetworks(): NetworksService {
    if (!this.#networks) throw notImplemented("networks are not configured in this daemon");
    return this.#networks;
  }

  /** The key under which a stopped container's record lists a network (by name, or by the id it was created with). */
  async #networkKey(rec: ContainerRecord, name: string): Promise<string | undefined> {
    for (const k of Object.keys(rec.networking)) {
      if (k === name) return k;
      if (await this.#networks!.nameOf(k).catch(() => "") === name) return k;
    }
    return undefined;
  }

  async top(ref: string, psArgs = "-ef"): Promise<{ Titles: string[]; Processes: string[][] }> {
    const live = this.#find(ref);
    if (live.rec.state.status !== "running" && live.rec.state.status !== "paused") throw conflict(`Container ${live.rec.id} is not running`);
    const pids = new Set(await cgroupPids(this.#cgroupsPath(live.rec)));
    if (!pids.size && live.rec.state.pid) pids.add(live.rec.state.pid);
    const args = psArgs.trim().split(/\s+/).filter(Boolean);
    const r = await execFileCapture("ps", args);
    if (r.code !== 0) throw invalidArgument(`ps: ${r.stderr.trim() || `exit status ${r.code}`}`);
    const lines = r.stdout.split("\n").filter((x) => x.trim());
    const titles = (lines[0] ?? "").trim().split(/\s+/);
    const pidCol = titles.indexOf("PID");
    if (pidCol < 0) throw invalidArgument(`Couldn't find PID field in ps output`);
    const procs: string[][] = [];
    for (const line of lines.slice(1)) {
      const fields = line.trim().split(/\s+/);
      const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(" ")];
      if (pids.has(Number(fields[pidCol]))) procs.push(row);
    }
    this.#emit(live, "top");
    return { Titles: titles, Processes: procs };
  }

  async changes(ref: string): Promise<ChangeItem[]> {
    const live = this.#find(ref);
    const [upper, lowers] = await Promise.all([this.#snap.dir(live.rec.snapshotKey), this.#snap.parentDirs(live.rec.snapshotKey)]);
    return hideEngineFiles(await listChanges(upper, lowers));
  }

  async export(ref: string, out: Writable, signal?: AbortSignal): Promise<void> {
    const live = this.#find(ref);
    await this.#withRootfs(live, async (rootfs) => {
      await pipeline(packTree(rootfs, signal ? { signal } : {}), out, signal ? { signal } : {});
    });
    this.#emit(live, "export");
  }

  async #statIn(rootfs: string, path: string, ref: string): Promise<{ host: string; st: PathStat }> {
    const host = await resolveInRoot(rootfs, path, { followLast: false });
    let s;
    try {
      s = await lstat(host);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") {
        throw notFound(`Could not find the file ${path} in container ${ref}`);
      }
      throw err;
    }
    const linkTarget = s.isSymbolicLink() ? await readlink(host) : "";
    const name = path === "/" ? "/" : basename(path.replace(/\/+$/, "")) || "/";
    return { host, st: { name, size: s.size, mode: s.mode, mtime: s.mtime.toISOString(), linkTarget } };
  }

  async statPath(ref: string, path: string): Promise<PathStat> {
    const live = this.#find(ref);
    return this.#withRootfs(live, async (rootfs) => (await this.#statIn(rootfs, path, ref)).st);
  }

  async getArchive(ref: string, path: string, out: Writable, signal?: AbortSignal): Promise<PathStat> {
    const live = this.#find(ref);
    const rootfs = await this.#mountRootfs(live);
    try {
      const { st } = await this.#statIn(rootfs, path, ref);
      // Follow a final symlink for the content (docker cp copies what the link points at when the path ends in "/").
      const followed = path.endsWith("/") || path.endsWith("/.") ? await resolveInRoot(rootfs, path) : await resolveInRoot(rootfs, path, { followLast: false });
      const rebase = path.endsWith("/.") ? undefined : st.name;
      const tar = packTree(followed, { ...(rebase && rebase !== "/" ? { rebaseName: rebase } : {}), ...(signal ? { signal } : {}) });
      void pipeline(tar, out, signal ? { signal } : {})
        .catch((err) => this.#log.debug("archive stream ended", { err }))
        .finally(() => void this.#releaseRootfs(live).catch(() => {}));
      return st;
    } catch (err) {
      await this.#releaseRootfs(live).catch(() => {});
      throw err;
    }
  }

  async putArchive(ref: string, path: string, src: Readable, opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const live = this.#find(ref);
    if (live.rec.hostConfig.ReadonlyRootfs) throw forbiddenReadonly();
    await this.#withRootfs(live, async (rootfs) => {
      let owner: { uid: number; gid: number } | undefined;
      if (opts.copyUIDGID) {
        const [passwd, group] = await Promise.all([this.#readInRoot(rootfs, "/etc/passwd"), this.#readInRoot(rootfs, "/etc/group")]);
        const u = resolveUser(live.rec.config.User, passwd, group);
        owner = { uid: u.uid, gid: u.gid };
      }
      await extractArchive(src, rootfs, path, {
        ...(opts.noOverwriteDirNonDir !== undefined ? { noOverwriteDirNonDir: opts.noOverwriteDirNonDir } : {}),
        ...(opts.copyUIDGID ? { copyUIDGID: true } : {}), ...(owner ? { owner } : {}), ...(opts.signal ? { signal: opts.signal } : {}),
      }).catch((err) => {
        if (isNotFound(err)) throw notFound(`Could not find the file ${path} in container ${ref}`);
        throw err;
      });
    });
  }

  async commit(ref: string, opts: { repo?: string; tag?: string; comment?: string; author?: string; changes?: string[]; pause?: boolean; config?: ContainerConfig }): Promise<string> {
    const live = this.#find(ref);
    const r = live.rec;
    const pause = (opts.pause ?? true) && r.state.status === "running";
    if (pause) await this.pause(r.id);
    try {
      const base: ContainerConfig = { ...r.config, ...(opts.config ?? {}) };
      delete base.Hostname;
      delete base.Image;
      const config = opts.changes?.length ? applyChanges(base, opts.changes) : base;
      const upper = await this.#snap.dir(r.snapshotKey);
      const tag = opts.repo ? `${opts.repo}${opts.tag ? `:${opts.tag}` : ""}` : undefined;
      const imageId = await this.#images.commitLayer({
        parent: r.imageId, layer: dropEntries(packDiff(upper), (n) => ENGINE_PLACEHOLDERS.has(n)), config, createdBy: [r.path, ...r.args].join(" "),
        ...(opts.comment ? { comment: opts.comment } : {}), ...(opts.author ? { author: opts.author } : {}), ...(tag ? { tag } : {}),
      });
      this.#emit(live, "commit", { comment: opts.comment ?? "", imageID: imageId, imageRef: tag ?? "" });
      return imageId;
    } finally {
      if (pause) await this.unpause(r.id).catch(() => {});
    }
  }

  async prune(opts: { filters?: Filters } = {}): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
    const f = opts.filters ?? {};
    for (const k of Object.keys(f)) if (k !== "until" && k !== "label" && k !== "label!") throw invalidArgument(`invalid filter '${k}'`);
    const until = f.until?.length ? parseUntil(f.until[0]!) : null;
    const deleted: string[] = [];
    let space = 0;
    for (const l of [...this.#byId.values()]) {
      const r = l.rec;
      if (r.state.status !== "exited" && r.state.status !== "created" && r.state.status !== "dead") continue;
      if (until !== null && Date.parse(r.created) >= until) continue;
      const labels = r.config.Labels ?? {};
      if (f.label?.some((lf) => { const i = lf.indexOf("="); return i < 0 ? !(lf in labels) : labels[lf.slice(0, i)] !== lf.slice(i + 1); })) continue;
      if (f["label!"]?.some((lf) => { const i = lf.indexOf("="); return i < 0 ? lf in labels : labels[lf.slice(0, i)] === lf.slice(i + 1); })) continue;
      const size = await this.#snap.usage(r.snapshotKey).then((u) => u.size, () => 0);
      try {
        await this.#removeLocked(l, {});
        deleted.push(r.id);
        space += size;
      } catch (err) {
        this.#log.warn("prune: remove failed", { id: r.id, err });
      }
    }
    return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: space };
  }

  async update(ref: string, hostConfig: Partial<HostConfig>): Promise<{ Warnings: string[] }> {
    const live = this.#find(ref);
    const warnings: string[] = [];
    await this.#locked(live, async () => {
      if (hostConfig.RestartPolicy) {
        validateRestartPolicy(hostConfig.RestartPolicy, !!live.rec.hostConfig.AutoRemove);
        live.rec.hostConfig.RestartPolicy = hostConfig.RestartPolicy;
      }
      const resourceKeys = ["CpuShares", "Memory", "NanoCpus", "CpuPeriod", "CpuQuota", "CpusetCpus", "CpusetMems", "MemoryReservation", "MemorySwap", "PidsLimit", "BlkioWeight"] as const;
      const changed: Partial<HostConfig> = {};
      for (const k of resourceKeys) {
        const v = hostConfig[k];
        if (v !== undefined && v !== null && v !== 0 && v !== "") (changed as Record<string, unknown>)[k] = v;
      }
      if (Object.keys(changed).length) {
        const merged = { ...live.rec.hostConfig, ...changed };
        checkResources(merged, await hostCpusets());
        Object.assign(changed, Object.fromEntries(Object.keys(changed).map((k) => [k, merged[k as keyof HostConfig]])));
        const res = resourcesOf(merged);
        const st = live.rec.state.status;
        if (st === "running" || st === "paused") {
          try {
            await this.#runtime.update(live.rec.id, res);
          } catch (err) {
            throw invalidArgument(`Cannot update container ${live.rec.id}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
        Object.assign(live.rec.hostConfig, changed);
      }
      await this.#save(live);
    });
    this.#emit(live, "update");
    return { Warnings: warnings };
  }

  async resize(ref: string, h: number, w: number): Promise<void> {
    const live = this.#find(ref);
    if (live.rec.state.status !== "running" && live.rec.state.status !== "paused") throw conflict(`Container ${live.rec.id} is not running`);
    if (!live.rec.config.Tty) return;
    if (!Number.isInteger(h) || !Number.isInteger(w) || h < 0 || w < 0) throw invalidArgument("invalid terminal size");
    // conmon's control fifo: message type 1 is a window resize.
    let fh;
    try {
      fh = await open(join(this.#paths(live).bundle, "ctl"), constants.O_WRONLY | constants.O_NONBLOCK);
      await fh.write(`1 ${h} ${w}\n`);
      this.#emit(live, "resize", { height: String(h), width: String(w) });
    } catch (err) {
      this.#log.debug("resize failed", { id: live.rec.id, err });
    } finally {
      await fh?.close();
    }
  }

  async containersUsing(imageId: string): Promise<{ id: string; running: boolean }[]> {
    return [...this.#byId.values()]
      .filter((l) => l.rec.imageId === imageId && !l.removed)
      .map((l) => ({ id: l.rec.id, running: l.rec.state.status === "running" || l.rec.state.status === "paused" }));
  }

  // ---------------------------------------------------------------- health

  /** Probe a running container: a (re)start begins at "starting"; a resumed container keeps its recorded health. */
  #startHealth(live: Live, fresh: boolean): void {
    const rec = live.rec;
    const settings = healthSettings(rec.config.Healthcheck, rec.config.Shell);
    if (!settings || this.#closed) return;
    if (live.health) void live.health.stop();
    if (fresh || !rec.health) rec.health = startingHealth(rec.health);
    const monitor: HealthMonitor = new HealthMonitor({
      settings, startedAtMs: Date.parse(rec.state.startedAt), health: rec.health,
      probe: execProbe({
        runtime: this.#runtime.binary, runtimeRoot: this.#runtime.root, containerId: rec.id, bundleConfig: this.#paths(live).config,
        workRoot: join(this.#execRoot, "execs"), cmd: settings.cmd, onExecEvent: (action, attrs) => this.#emit(live, action, attrs),
      }),
      onResult: (health, previous) => {
        if (live.health !== monitor || live.removed) return;
        rec.health = health;
        if (rec.state.status === "running") void this.#save(live).catch((err) => this.#log.warn("saving health failed", { id: rec.id, err }));
        if (health.Status === previous) return;
        this.#emit(live, `health_status: ${health.Status}`);
        if (health.Status === "unhealthy") setImmediate(() => void this.#onUnhealthy(live));
      },
    });
    live.health = monitor;
    monitor.start();
  }

  /** Stop probing. A container that stopped or paused reads "unhealthy" from then on, as Docker reports it (no event). */
  #stopHealth(live: Live, markUnhealthy: boolean): void {
    const m = live.health;
    if (!m) return;
    live.health = null;
    void m.stop();
    if (markUnhealthy && live.rec.health) live.rec.health = { ...live.rec.health, Status: "unhealthy" };
  }

  /** HostConfig.HealthOnFailure (Berth's, after podman's --health-on-failure): kill, stop or restart an unhealthy container. */
  async #onUnhealthy(live: Live): Promise<void> {
    const rec = live.rec;
    const action = rec.hostConfig.HealthOnFailure;
    if (!action || action === "none" || rec.state.status !== "running" || rec.health?.Status !== "unhealthy") return;
    this.#log.info("container is unhealthy", { id: rec.id, action });
    try {
      if (action === "kill") {
        // Not a manual stop: the restart policy still applies.
        this.#emit(live, "kill", { signal: "9" });
        await this.#signal(live, 9, true);
      } else if (action === "stop") {
        rec.manuallyStopped = true;
        await this.#save(live);
        await this.#stopRunning(live, {});
        this.#emit(live, "stop");
      } else {
        live.healthRestart = true;
        await this.#stopRunning(live, {});
      }
    } catch (err) {
      live.healthRestart = false;
      this.#log.warn("health action failed", { id: rec.id, action, err });
    }
  }

  // ---------------------------------------------------------------- restore / close

  async restore(): Promise<void> {
    // Networking first: endpoints of running containers are kept (rules reapplied), every other one is dropped.
    // A container started just before the crash may still have a "created" record: its monitor tells it is alive.
    const live = (await Promise.all([...this.#byId.values()].map(async (l) => {
      const st = l.rec.state.status;
      if (st === "running" || st === "paused") return l.rec.id;
      if (st !== "created" && st !== "exited") return null;
      if (!(await stat(join(this.#runtime.root, l.rec.id)).then(() => true, () => false))) return null;
      return (await isAlive((await readPidFile(this.#paths(l).conmonPid)) ?? 0)) ? l.rec.id : null;
    }))).filter((id): id is string => id !== null);
    await this.#networks?.restore(live);
    await Promise.all([...this.#byId.values()].map((live) => this.#restoreOne(live).catch((err) => {
      this.#log.error("restore failed", { id: live.rec.id, err });
    })));
  }

  async #restoreOne(live: Live): Promise<void> {
    const rec = live.rec;
    const p = this.#paths(live);
    const st = rec.state.status;
    if (st === "removing") {
      live.removed = false;
      rec.state.status = "dead";
      await this.#removeLocked(live, { force: true });
      return;
    }
    if (st === "running" || st === "paused") {
      const hasExit = await stat(p.exitFile).then(() => true, () => false);
      if (hasExit) {
        live.mountUsers = 1;
        await this.#onExitFile(rec.id);
        return;
      }
      const conmonPid = rec.state.conmonPid || (await readPidFile(p.conmonPid)) || 0;
      if (await isAlive(conmonPid)) {
        live.mountUsers = 1;
        if (!(await isMountPoint(p.rootfs))) await mountAll(await this.#snap.mounts(rec.snapshotKey), p.rootfs);
        const rs = await this.#runtime.state(rec.id).catch(() => null);
        if (rs?.status === "paused" && st !== "paused") { rec.state.status = "paused"; await this.#save(live); }
        if (rs?.status === "running" && st === "paused") { rec.state.status = "running"; await this.#save(live); }
        if (rec.state.status === "running") this.#startHealth(live, false);
        // The exit may have landed between the check above and the watcher being active.
        if (await stat(p.exitFile).then(() => true, () => false)) await this.#onExitFile(rec.id);
        return;
      }
      // Monitor gone without an exit file (reboot, monitor killed): the container is lost.
      live.mountUsers = 1;
      await this.#runtime.delete(rec.id, true).catch(() => {});
      await this.#handleExit(live, 255);
      return;
    }
    if (st === "restarting") {
      this.#scheduleRestart(live, 0);
      return;
    }
    if (st === "created" || st === "exited") {
      // Killed between starting the monitor and recording it: adopt a running container, drop a half-made one.
      if (await stat(join(this.#runtime.root, rec.id)).then(() => true, () => false)) {
        const rs = await this.#runtime.state(rec.id).catch(() => null);
        const conmonPid = (await readPidFile(p.conmonPid)) ?? 0;
        if ((rs?.status === "running" || rs?.status === "paused") && (await isAlive(conmonPid))) {
          rec.state = {
            ...rec.state, status: rs.status, pid: rs.pid, conmonPid, exitCode: 0, error: "", startedAt: new Date().toISOString(),
          };
          rec.hasBeenStarted = true;
          live.mountUsers = 1;
          if (rs.status === "running") this.#startHealth(live, true);
          await this.#save(live);
          if (await stat(p.exitFile).then(() => true, () => false)) await this.#onExitFile(rec.id);
          return;
        }
        if (st === "created" && (await stat(p.exitFile).then(() => true, () => false))) {
          // It ran and exited while the daemon was down, before its "running" record landed: record the exit as usual.
          rec.state = { ...rec.state, status: "running", startedAt: rec.state.startedAt === ZERO_TIME ? new Date().toISOString() : rec.state.startedAt };
          rec.hasBeenStarted = true;
          live.mountUsers = 1;
          await this.#onExitFile(rec.id);
          return;
        }
        await this.#runtime.delete(rec.id, true).catch(() => {});
        await unlink(p.exitFile).catch(() => {});
      }
      if (await isMountPoint(p.rootfs)) await unmountAll(p.rootfs).catch(() => {});
      const pol = rec.hostConfig.RestartPolicy?.Name;
      if (st === "exited" && rec.hasBeenStarted && !rec.manuallyStopped && (pol === "always" || pol === "unless-stopped")) {
        rec.state.status = "restarting";
        this.#scheduleRestart(live, 0);
      }
      if (rec.hostConfig.AutoRemove && st === "exited") await this.#removeLocked(live, { force: true, volumes: true });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = null;
    if (this.#sweeper) clearInterval(this.#sweeper);
    for (const live of this.#byId.values()) {
      if (live.restartTimer) { clearTimeout(live.restartTimer); live.restartTimer = null; }
      this.#stopHealth(live, false);
      live.events.emit("stopped");
    }
    await Promise.all([...this.#byId.values()].map((l) => l.exitHandling ?? Promise.resolve()));
    while (this.#cleanups.size) await this.settled();
  }
}

/** Mountpoints the engine itself creates in the upper dir (Docker keeps them in an init layer, out of diff). */
const ENGINE_FILES = new Set(["/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/sbin/docker-init", "/dev", "/proc", "/sys", "/dev/shm", "/dev/pts", "/dev/mqueue"]);

function hideEngineFiles(changes: ChangeItem[]): ChangeItem[] {
  const kept = changes.filter((c) => !(ENGINE_FILES.has(c.Path) && c.Kind !== 2));
  return kept.filter((c) => !(c.Kind === 0 && (c.Path === "/etc" || c.Path === "/sbin") && !kept.some((o) => o.Path.startsWith(`${c.Path}/`))));
}

function forbiddenReadonly(): EngineError {
  return new EngineError("forbidden", "container rootfs is marked read-only");
}

/** Docker's list Command: args containing a space are wrapped in single quotes. */
function commandText(path: string, args: string[]): string {
  return args.length ? `${path} ${args.map((a) => (a.includes(" ") ? `'${a}'` : a)).join(" ")}` : path;
}

function parseUntil(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const m = /^(\d+)(s|m|h)$/.exec(v);
  if (m) return Date.now() - Number(m[1]) * ({ s: 1000, m: 60_000, h: 3_600_000 } as const)[m[2] as "s" | "m" | "h"];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalidArgument(`invalid filter 'until=${v}'`);
  return t;
}

function blankEndpoint(cfg?: EndpointSettings | null): EndpointSettings {
  return {
    IPAMConfig: cfg?.IPAMConfig ?? null, Links: cfg?.Links ?? null, Aliases: cfg?.Aliases ?? null, MacAddress: "", NetworkID: "", EndpointID: "",
    Gateway: "", IPAddress: "", IPPrefixLen: 0, IPv6Gateway: "", GlobalIPv6Address: "", GlobalIPv6PrefixLen: 0, DNSNames: null,
  };
}

/** A stopped container keeps its networks by name, without addresses (as Docker shows it). */
function blankEndpoints(eps: Record<string, EndpointSettings>): Record<string, EndpointSettings> {
  const out: Record<string, EndpointSettings> = {};
  for (const [name, e] of Object.entries(eps)) out[name] = { ...blankEndpoint(e), NetworkID: e.NetworkID ?? "" };
  return out;
}

/** The ps Ports column data from inspect's Ports map. */
function portList(ports: Record<string, PortBinding[] | null>): ContainerSummary["Ports"] {
  const out: ContainerSummary["Ports"] = [];
  for (const [key, binds] of Object.entries(ports)) {
    const [port, proto = "tcp"] = key.split("/") as [string, string?];
    if (!binds?.length) { out.push({ PrivatePort: Number(port), Type: proto }); continue; }
    for (const b of binds) out.push({ IP: b.HostIp || "0.0.0.0", PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: proto });
  }
  return out;
}
