import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { access, readdir, readFile, statfs } from "node:fs/promises";
import { arch, cpus, hostname, release, totalmem } from "node:os";
import { delimiter, join } from "node:path";
import { atomicWrite } from "../util/index.js";
import type { ContainerSummary, ImageSummary } from "../spec/engine.js";
import type { ContainersService, ImagesService } from "./types.js";

export interface SystemServiceOptions {
  images: ImagesService;
  containers: ContainersService;
  /** Volumes with their UsageData for /system/df; absent = none reported. */
  volumes?: { df(): Promise<unknown[]> };
  dataRoot: string;
  /** The default OCI runtime's name ("runc" or "crun"). */
  runtime: string;
  serverVersion: string;
  apiVersion: string;
  minApiVersion: string;
  loggingDriver?: string;
  registryMirrors?: string[];
  insecureRegistries?: string[];
  /** Build cache records for df (BuildService.df). */
  buildCache?: () => Promise<unknown[]>;
}

export interface VersionComponent { Name: string; Version: string; Details?: Record<string, string> }

/** GET /version */
export interface SystemVersion {
  Platform: { Name: string };
  Components: VersionComponent[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  BuildTime: string;
}

/** GET /info (the fields Berth can answer truthfully; clients ignore the rest). */
export type SystemInfo = Record<string, unknown> & {
  ID: string;
  Containers: number;
  ContainersRunning: number;
  ContainersPaused: number;
  ContainersStopped: number;
  Images: number;
};

/** GET /system/df in the API <= 1.51 shape. */
export interface DiskUsage {
  LayersSize: number;
  Images: ImageSummary[];
  Containers: ContainerSummary[];
  Volumes: unknown[];
  BuildCache: unknown[];
}

export type DiskUsageType = "container" | "image" | "volume" | "build-cache";

const FS_NAMES: Record<number, string> = {
  0xef53: "extfs", 0x58465342: "xfs", 0x9123683e: "btrfs", 0x01021994: "tmpfs", 0x794c7630: "overlayfs",
  0x2fc12fc1: "zfs", 0x6969: "nfs", 0x65735546: "fuse", 0xf2f52010: "f2fs",
};

const GO_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
const UNAME_ARCH: Record<string, string> = { x64: "x86_64", arm64: "aarch64", arm: "armv7l", ia32: "i686", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

/** System-wide facts for /info, /version and /system/df, composed from the other services and the host. */
export class SystemService {
  #opts: SystemServiceOptions;
  #id: Promise<string> | undefined;
  #runtimeVersion: Promise<{ version: string; commit: string } | null> | undefined;

  constructor(opts: SystemServiceOptions) {
    this.#opts = opts;
  }

  /** The daemon's stable identity, kept in <data-root>/engine-id like dockerd's. */
  engineId(): Promise<string> {
    this.#id ??= (async () => {
      const file = join(this.#opts.dataRoot, "engine-id");
      const existing = (await readFile(file, "utf8").catch(() => "")).trim();
      if (existing) return existing;
      const id = randomUUID();
      await atomicWrite(file, id + "\n");
      return id;
    })();
    return this.#id;
  }

  async version(): Promise<SystemVersion> {
    const o = this.#opts;
    const details = {
      ApiVersion: o.apiVersion, Arch: GO_ARCH[arch()] ?? arch(), BuildTime: "", Experimental: "false",
      GitCommit: "", GoVersion: `node${process.versions.node}`, KernelVersion: release(), MinAPIVersion: o.minApiVersion, Os: "linux",
    };
    const components: VersionComponent[] = [{ Name: "Engine", Version: o.serverVersion, Details: details }];
    const rt = await this.#runtimeInfo();
    if (rt) components.push({ Name: o.runtime, Version: rt.version, Details: { GitCommit: rt.commit } });
    return {
      Platform: { Name: "Berth" },
      Components: components,
      Version: o.serverVersion,
      ApiVersion: o.apiVersion,
      MinAPIVersion: o.minApiVersion,
      GitCommit: "",
      GoVersion: details.GoVersion,
      Os: "linux",
      Arch: details.Arch,
      KernelVersion: release(),
      BuildTime: "",
    };
  }

  async info(): Promise<SystemInfo> {
    const o = this.#opts;
    const [containers, images, id, cgroup, osRelease, backing, runtimes, rt, nfd] = await Promise.all([
      o.containers.list({ all: true }),
      o.images.list({ all: false }),
      this.engineId(),
      cgroupFacts(),
      readOsRelease(),
      backingFs(o.dataRoot),
      availableRuntimes(),
      this.#runtimeInfo(),
      readdir("/proc/self/fd").then((e) => e.length, () => 0),
    ]);
    const count = (s: string) => containers.filter((c) => c.State === s).length;
    const running = count("running") + count("restarting");
    const paused = count("paused");
    const warnings: string[] = [];
    if (!cgroup.swapLimit) warnings.push("WARNING: No swap limit support");
    return {
      ID: id,
      Containers: containers.length,
      ContainersRunning: running,
      ContainersPaused: paused,
      ContainersStopped: containers.length - running - paused,
      Images: images.length,
      Driver: "overlay2",
      DriverStatus: [["Backing Filesystem", backing], ["Supports d_type", "true"], ["Using metacopy", "false"], ["Native Overlay Diff", "true"], ["userxattr", "false"]],
      DockerRootDir: o.dataRoot,
      Plugins: { Volume: ["local"], Network: [], Authorization: null, Log: [o.loggingDriver ?? "json-file"] },
      MemoryLimit: cgroup.memory,
      SwapLimit: cgroup.swapLimit,
      CpuCfsPeriod: cgroup.cfs,
      CpuCfsQuota: cgroup.cfs,
      CPUShares: cgroup.cpu,
      CPUSet: cgroup.cpuset,
      PidsLimit: cgroup.pids,
      OomKillDisable: cgroup.version === "1" && cgroup.memory,
      IPv4Forwarding: (await readFile("/proc/sys/net/ipv4/ip_forward", "utf8").catch(() => "0")).trim() === "1",
      Debug: false,
      NFd: nfd,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: o.loggingDriver ?? "json-file",
      CgroupDriver: "cgroupfs",
      CgroupVersion: cgroup.version,
      NEventsListener: 0,
      KernelVersion: release(),
      OperatingSystem: osRelease.PRETTY_NAME ?? "Linux",
      OSVersion: osRelease.VERSION_ID ?? "",
      OSType: "linux",
      Architecture: UNAME_ARCH[arch()] ?? arch(),
      NCPU: cpus().length,
      MemTotal: totalmem(),
      IndexServerAddress: "https://index.docker.io/v1/",
      RegistryConfig: {
        InsecureRegistryCIDRs: ["::1/128", "127.0.0.0/8"],
        IndexConfigs: {
          "docker.io": { Name: "docker.io", Mirrors: o.registryMirrors ?? [], Secure: true, Official: true },
          ...Object.fromEntries((o.insecureRegistries ?? []).filter((r) => !r.includes("/")).map((r) => [r, { Name: r, Mirrors: [], Secure: false, Official: false }])),
        },
        Mirrors: o.registryMirrors ?? [],
      },
      GenericResources: null,
      HttpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? "",
      HttpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? "",
      NoProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? "",
      Name: hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: o.serverVersion,
      Runtimes: Object.fromEntries(runtimes.map((r) => [r.name, { path: r.path }])),
      DefaultRuntime: o.runtime,
      Swarm: { NodeID: "", NodeAddr: "", LocalNodeState: "inactive", ControlAvailable: false, Error: "", RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: "",
      InitBinary: "",
      ContainerdCommit: { ID: "" },
      RuncCommit: { ID: rt?.commit ?? "" },
      InitCommit: { ID: "" },
      SecurityOptions: ["name=seccomp,profile=builtin", ...(cgroup.version === "2" ? ["name=cgroupns"] : [])],
      CDISpecDirs: [],
      Warnings: warnings,
    };
  }

  async df(types?: DiskUsageType[]): Promise<DiskUsage> {
    const want = (t: DiskUsageType) => !types || types.length === 0 || types.includes(t);
    const [images, containers, volumes, buildCache] = await Promise.all([
      want("image") ? this.#opts.images.df() : Promise.resolve({ images: [], layersSize: 0 }),
      want("container") ? this.#opts.containers.list({ all: true, size: true }) : Promise.resolve([]),
      want("volume") && this.#opts.volumes ? this.#opts.volumes.df() : Promise.resolve([]),
      want("build-cache") && this.#opts.buildCache ? this.#opts.buildCache() : Promise.resolve([]),
    ]);
    return { LayersSize: images.layersSize, Images: images.images, Containers: containers, Volumes: volumes, BuildCache: buildCache };
  }

  #runtimeInfo(): Promise<{ version: string; commit: string } | null> {
    this.#runtimeVersion ??= new Promise((resolve) => {
      execFile(this.#opts.runtime, ["--version"], { timeout: 5000 }, (err, stdout) => {
        if (err) return resolve(null);
        const version = /version\s+(\S+)/.exec(stdout)?.[1] ?? "";
        const commit = /commit:\s*(\S+)/.exec(stdout)?.[1] ?? "";
        resolve({ version, commit });
      });
    });
    return this.#runtimeVersion;
  }
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(() => true, () => false);
}

async function cgroupFacts() {
  const v2 = await exists("/sys/fs/cgroup/cgroup.controllers");
  if (v2) {
    const ctrls = (await readFile("/sys/fs/cgroup/cgroup.controllers", "utf8").catch(() => "")).split(/\s+/);
    return {
      version: "2", memory: ctrls.includes("memory"), swapLimit: ctrls.includes("memory"),
      cpu: ctrls.includes("cpu"), cfs: ctrls.includes("cpu"), cpuset: ctrls.includes("cpuset"), pids: ctrls.includes("pids"),
    };
  }
  const [memory, swapLimit, cpu, cfs, cpuset, pids] = await Promise.all([
    exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
    exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"),
    exists("/sys/fs/cgroup/cpu/cpu.shares"),
    exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
    exists("/sys/fs/cgroup/cpuset/cpuset.cpus"),
    exists("/sys/fs/cgroup/pids/pids.max").then(async (x) => x || exists("/sys/fs/cgroup/pids")),
  ]);
  return { version: "1", memory, swapLimit, cpu, cfs, cpuset, pids };
}

async function readOsRelease(): Promise<Record<string, string>> {
  const text = await readFile("/etc/os-release", "utf8").catch(() => readFile("/usr/lib/os-release", "utf8").catch(() => ""));
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.replace(/^"(.*)"$/, "$1");
  }
  return out;
}

async function backingFs(dir: string): Promise<string> {
  try {
    const st = await statfs(dir);
    return FS_NAMES[st.type] ?? `<unknown> (0x${st.type.toString(16)})`;
  } catch {
    return "<unknown>";
  }
}

async function availableRuntimes(): Promise<{ name: string; path: string }[]> {
  const dirs = (process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(delimiter);
  const out: { name: string; path: string }[] = [];
  for (const name of ["runc", "crun"]) {
    for (const d of dirs) {
      if (d && (await exists(join(d, name)))) {
        out.push({ name, path: name });
        break;
      }
    }
  }
  return out;
}
