import { invalidArgument } from "../errdefs/index.js";
import type { ContainerConfig, HostConfig } from "../spec/engine.js";
import type { OciDevice, OciMount, OciNamespace, OciResources, OciRlimit, OciSpec, OciUser, SeccompProfile } from "../spec/oci-runtime.js";
import { hostCapabilities, tweakCapabilities } from "./capabilities.js";
import { containerEnv } from "./merge-config.js";
import { ociMountOf, type PlannedMount } from "./mount-plan.js";
import { seccompForContainer } from "./seccomp.js";

export const MASKED_PATHS = [
  "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
  "/proc/sched_debug", "/proc/scsi", "/proc/timer_list", "/proc/timer_stats", "/sys/devices/virtual/powercap", "/sys/firmware",
];
export const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
export const INIT_PATH = "/sbin/docker-init";

const DEVICE_RULES = [
  { allow: false, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 5, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 9, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 8, access: "rwm" },
  { allow: true, type: "c", major: 5, minor: 0, access: "rwm" },
  { allow: true, type: "c", major: 5, minor: 1, access: "rwm" },
  { allow: false, type: "c", major: 10, minor: 229, access: "rwm" },
];

/** Facts about the host the spec depends on; gathered once by the caller. */
export interface HostFacts {
  arch: string;                 // GOARCH name
  kernel: string;               // uname -r
  lastCap: number;              // /proc/sys/kernel/cap_last_cap
  bounding?: number[];          // capability numbers the daemon itself may grant
  cgroupV2: boolean;            // unified hierarchy only
  rlimitHard: Record<string, number>; // e.g. { nofile: 20000 }
  devices: OciDevice[];         // host devices, for --privileged
  maskedExtra: string[];        // thermal_throttle paths that exist
}

export interface SpecInput {
  id: string;
  config: ContainerConfig;      // merged container config
  hostConfig: HostConfig;
  rootfs: string;
  user: OciUser;
  mounts: PlannedMount[];
  files: { hostname: string; hosts: string; resolvConf: string } | null;
  initBinary?: string;          // host path of a static init, used when HostConfig.Init
  seccompDefault: SeccompProfile;
  host: HostFacts;
  netnsPath?: string;           // join an existing network namespace
  /** User mounts already in OCI form (the volumes service's plan), after `mounts`. */
  ociMounts?: OciMount[];
}

type SecurityOpts = { noNewPrivileges: boolean; seccomp: "default" | "unconfined" | SeccompProfile };

/** --security-opt values as the docker CLI sends them (seccomp=<json> carries the file's contents). */
export function parseSecurityOpts(list: string[] | null | undefined): SecurityOpts {
  const out: SecurityOpts = { noNewPrivileges: false, seccomp: "default" };
  for (const opt of list ?? []) {
    if (opt === "no-new-privileges") { out.noNewPrivileges = true; continue; }
    const m = /^([a-z-]+)[=:](.*)$/s.exec(opt);
    if (!m) throw invalidArgument(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    const [, key, value] = m as unknown as [string, string, string];
    if (key === "no-new-privileges") {
      if (value !== "true" && value !== "false") throw invalidArgument(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
      out.noNewPrivileges = value === "true";
    } else if (key === "seccomp") {
      if (value === "unconfined") out.seccomp = "unconfined";
      else if (value === "builtin" || value === "") out.seccomp = "default";
      else {
        try { out.seccomp = JSON.parse(value) as SeccompProfile; } catch { throw invalidArgument(`Decoding seccomp profile failed: invalid JSON`); }
        if (!out.seccomp.defaultAction) throw invalidArgument("Decoding seccomp profile failed: defaultAction is required");
      }
    } else if (key === "apparmor" || key === "label" || key === "systempaths" || key === "writable-cgroups") {
      continue; // no AppArmor/SELinux here; systempaths handled by MaskedPaths overrides
    } else {
      throw invalidArgument(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    }
  }
  return out;
}

const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12, PIPE: 13,
  ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25,
  VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};

/** "SIGTERM", "TERM", "15", "RTMIN+3" -> number. invalid-argument otherwise. */
export function parseSignal(s: string): number {
  const v = s.trim().toUpperCase();
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n < 1 || n > 64) throw invalidArgument(`Invalid signal: ${s}`);
    return n;
  }
  const name = v.startsWith("SIG") ? v.slice(3) : v;
  const rt = /^RTMIN(?:\+(\d+))?$/.exec(name) ?? /^RTMAX(?:-(\d+))?$/.exec(name);
  if (rt) return name.startsWith("RTMIN") ? 34 + Number(rt[1] ?? 0) : 64 - Number(rt[1] ?? 0);
  const n = SIGNALS[name];
  if (!n) throw invalidArgument(`Invalid signal: ${s}`);
  return n;
}

function ulimits(hc: HostConfig, hard: Record<string, number>): OciRlimit[] | undefined {
  if (!hc.Ulimits?.length) return undefined;
  return hc.Ulimits.map((u) => {
    const name = u.Name.toLowerCase();
    if (!/^[a-z]+$/.test(name)) throw invalidArgument(`invalid ulimit type: ${u.Name}`);
    if (u.Soft > u.Hard) throw invalidArgument(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    const max = hard[name];
    if (max !== undefined && max >= 0 && u.Hard > max) {
      throw invalidArgument(`ulimit ${name}: hard limit ${u.Hard} exceeds the daemon's own hard limit ${max}`);
    }
    return { type: `RLIMIT_${name.toUpperCase()}`, soft: u.Soft, hard: u.Hard };
  });
}

/** Cgroup limits from HostConfig's inline resources (also used by update on a running container). */
export function resourcesOf(hc: Partial<HostConfig>): Omit<OciResources, "devices"> {
  const res: Omit<OciResources, "devices"> = {};
  if (hc.Memory || hc.MemoryReservation || hc.MemorySwap || hc.OomKillDisable || (hc.MemorySwappiness ?? -1) >= 0) {
    res.memory = {};
    if (hc.Memory) res.memory.limit = hc.Memory;
    if (hc.MemoryReservation) res.memory.reservation = hc.MemoryReservation;
    if (hc.MemorySwap) res.memory.swap = hc.MemorySwap;
    if (hc.OomKillDisable) res.memory.disableOOMKiller = true;
    if (hc.MemorySwappiness != null && hc.MemorySwappiness >= 0) res.memory.swappiness = hc.MemorySwappiness;
  }
  if (hc.NanoCpus && (hc.CpuQuota || hc.CpuPeriod)) throw invalidArgument("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (hc.CpuShares || hc.NanoCpus || hc.CpuQuota || hc.CpuPeriod || hc.CpusetCpus || hc.CpusetMems) {
    res.cpu = {};
    if (hc.CpuShares) res.cpu.shares = hc.CpuShares;
    if (hc.NanoCpus) { res.cpu.period = 100000; res.cpu.quota = Math.round((hc.NanoCpus * 100000) / 1e9); }
    if (hc.CpuQuota) res.cpu.quota = hc.CpuQuota;
    if (hc.CpuPeriod) res.cpu.period = hc.CpuPeriod;
    if (hc.CpusetCpus) res.cpu.cpus = hc.CpusetCpus;
    if (hc.CpusetMems) res.cpu.mems = hc.CpusetMems;
  }
  if (hc.PidsLimit && hc.PidsLimit > 0) res.pids = { limit: hc.PidsLimit };
  if (hc.BlkioWeight) res.blockIO = { weight: hc.BlkioWeight };

  return res;
}

/** The OCI runtime config for a container: Docker's defaults, then the user's HostConfig. Pure. */
export function buildOciSpec(input: SpecInput): OciSpec {
  const { config: c, hostConfig: hc, host } = input;
  const privileged = !!hc.Privileged;
  const sec = parseSecurityOpts(hc.SecurityOpt);
  const allCaps = hostCapabilities(host.lastCap, host.bounding);
  const caps = tweakCapabilities({ adds: hc.CapAdd ?? null, drops: hc.CapDrop ?? null, privileged, hostCaps: allCaps });
  const netMode = hc.NetworkMode || "default";
  const hostNet = netMode === "host";
  const utsHost = hc.UTSMode === "host";
  const hostname = c.Hostname || input.id.slice(0, 12);

  const args = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  if (!args.length) throw invalidArgument("No command specified");
  const pidHost = hc.PidMode === "host";
  const useInit = !!hc.Init && !pidHost && !!input.initBinary;
  if (useInit) args.unshift(INIT_PATH, "--");

  const env = containerEnv(c, hostname);
  const process: OciSpec["process"] = {
    terminal: !!c.Tty,
    user: input.user,
    args,
    env,
    cwd: c.WorkingDir || "/",
    capabilities: { bounding: caps, effective: caps, permitted: caps },
  };
  if (sec.noNewPrivileges) process.noNewPrivileges = true;
  if (hc.OomScoreAdj) process.oomScoreAdj = hc.OomScoreAdj;
  const rl = ulimits(hc, host.rlimitHard);
  if (rl) process.rlimits = rl;

  // Default mounts; user mounts replace any default at the same destination (or under /dev when /dev is mounted).
  const userDests = new Set([...input.mounts.map((m) => m.destination), ...(input.ociMounts ?? []).map((m) => m.destination)]);
  const shm = hc.ShmSize && hc.ShmSize > 0 ? hc.ShmSize : DEFAULT_SHM_SIZE;
  const defaults: OciMount[] = [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: privileged ? ["nosuid", "noexec", "nodev"] : ["nosuid", "noexec", "nodev", "ro"] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: privileged ? ["nosuid", "noexec", "nodev"] : ["ro", "nosuid", "noexec", "nodev"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
  ];
  if (hc.IpcMode !== "none") {
    defaults.push({ destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", `size=${shm}`] });
  }
  const keep = (m: OciMount) => !userDests.has(m.destination) && !(userDests.has("/dev") && m.destination.startsWith("/dev/"));
  const mounts: OciMount[] = defaults.filter(keep);
  if (hc.ReadonlyRootfs) {
    const exempt = new Set(["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue"]);
    for (const m of mounts) if (!exempt.has(m.destination) && !m.options!.includes("ro")) m.options!.push("ro");
  }
  if (input.files) {
    const rw = hc.ReadonlyRootfs ? "ro" : "rw";
    const files: [string, string][] = [["/etc/resolv.conf", input.files.resolvConf], ["/etc/hostname", input.files.hostname], ["/etc/hosts", input.files.hosts]];
    for (const [dest, src] of files) {
      if (!userDests.has(dest)) mounts.push({ destination: dest, type: "bind", source: src, options: ["rbind", "rprivate", rw] });
    }
  }
  const sorted = [...input.mounts].sort((a, b) => a.destination.split("/").length - b.destination.split("/").length);
  for (const m of sorted) mounts.push(ociMountOf(m));
  for (const m of input.ociMounts ?? []) mounts.push({ ...m, options: [...(m.options ?? [])] });
  if (useInit) mounts.push({ destination: INIT_PATH, type: "bind", source: input.initBinary!, options: ["bind", "ro"] });

  const namespaces: OciNamespace[] = [{ type: "mount" }];
  if (!hostNet) namespaces.push(input.netnsPath ? { type: "network", path: input.netnsPath } : { type: "network" });
  if (!utsHost) namespaces.push({ type: "uts" });
  if (!pidHost) namespaces.push({ type: "pid" });
  if (hc.IpcMode !== "host") namespaces.push({ type: "ipc" });
  const cgroupns = hc.CgroupnsMode || (host.cgroupV2 ? "private" : "host");
  if (cgroupns === "private") namespaces.push({ type: "cgroup" });

  const linux: OciSpec["linux"] = {
    namespaces,
    cgroupsPath: `${hc.CgroupParent || "/berth"}/${input.id}`,
    resources: { devices: privileged ? [{ allow: true, access: "rwm" }] : DEVICE_RULES.map((d) => ({ ...d })) },
  };
  const sysctl: Record<string, string> = {};
  if (!hostNet && !input.netnsPath) {
    sysctl["net.ipv4.ip_unprivileged_port_start"] = "0";
    sysctl["net.ipv4.ping_group_range"] = "0 2147483647";
  }
  Object.assign(sysctl, hc.Sysctls ?? {});
  if (Object.keys(sysctl).length) linux.sysctl = sysctl;

  Object.assign(linux.resources!, resourcesOf(hc));
  const res = linux.resources!;

  if (privileged) {
    linux.devices = host.devices.map((d) => ({ ...d }));
  } else {
    linux.maskedPaths = hc.MaskedPaths ?? [...MASKED_PATHS, ...host.maskedExtra];
    linux.readonlyPaths = hc.ReadonlyPaths ?? [...READONLY_PATHS];
  }
  for (const d of hc.Devices ?? []) {
    const found = host.devices.find((x) => x.path === d.PathOnHost);
    if (!found) throw invalidArgument(`error gathering device information while adding custom device "${d.PathOnHost}": no such file or directory`);
    if (!privileged) {
      linux.devices = [...(linux.devices ?? []), { ...found, path: d.PathInContainer || d.PathOnHost }];
      res.devices!.push({ allow: true, type: found.type, major: found.major!, minor: found.minor!, access: d.CgroupPermissions || "rwm" });
    }
  }

  if (sec.seccomp !== "unconfined" && (!privileged || typeof sec.seccomp === "object")) {
    const profile = typeof sec.seccomp === "object" ? sec.seccomp : input.seccompDefault;
    linux.seccomp = seccompForContainer(profile, { caps, arch: host.arch, kernel: host.kernel });
  }

  const spec: OciSpec = {
    ociVersion: "1.0.2-dev",
    process,
    root: { path: input.rootfs, readonly: !!hc.ReadonlyRootfs },
    mounts,
    linux,
  };
  if (!utsHost && !hostNet) spec.hostname = hostname;
  else if (hostNet && !utsHost) spec.hostname = hostname;
  if (c.Domainname) spec.domainname = c.Domainname;
  return spec;
}
