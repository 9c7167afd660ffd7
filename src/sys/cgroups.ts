import { access, readFile, rmdir } from "node:fs/promises";
import { join } from "node:path";

const ROOT = "/sys/fs/cgroup";

/** True on a pure cgroup v2 host (unified hierarchy mounted at /sys/fs/cgroup). */
export async function isCgroupV2(): Promise<boolean> {
  try {
    await access(join(ROOT, "cgroup.controllers"));
    return true;
  } catch {
    return false;
  }
}

/** Pids in a container's cgroup (cgroupsPath as given to runc, e.g. "/berth/<id>"). */
export async function cgroupPids(cgroupsPath: string): Promise<number[]> {
  const candidates = (await isCgroupV2())
    ? [join(ROOT, cgroupsPath, "cgroup.procs")]
    : [join(ROOT, "pids", cgroupsPath, "cgroup.procs"), join(ROOT, "memory", cgroupsPath, "cgroup.procs"), join(ROOT, "unified", cgroupsPath, "cgroup.procs")];
  for (const file of candidates) {
    try {
      return (await readFile(file, "utf8")).split("\n").filter(Boolean).map(Number);
    } catch { /* next */ }
  }
  return [];
}

/** Whether the memory cgroup recorded an OOM kill (v1 memory.oom_control / v2 memory.events). */
export async function oomKilled(cgroupsPath: string): Promise<boolean> {
  const files = (await isCgroupV2()) ? [join(ROOT, cgroupsPath, "memory.events")] : [join(ROOT, "memory", cgroupsPath, "memory.oom_control")];
  for (const f of files) {
    try {
      const m = /oom_kill (\d+)/.exec(await readFile(f, "utf8"));
      if (m && Number(m[1]) > 0) return true;
    } catch { /* gone */ }
  }
  return false;
}

/** Remove the container's cgroup directories left behind (runc delete normally does it). */
export async function removeCgroup(cgroupsPath: string): Promise<void> {
  const dirs = (await isCgroupV2())
    ? [join(ROOT, cgroupsPath)]
    : ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "net_cls", "perf_event", "hugetlb", "systemd", "unified", "net_prio", "rdma", "misc"].map((c) => join(ROOT, c, cgroupsPath));
  await Promise.all(dirs.map((d) => rmdir(d).catch(() => {})));
}

/** The host's CPUs and memory nodes as cpuset lists ("0-1"), for checking --cpuset-cpus/--cpuset-mems. */
export async function hostCpusets(): Promise<{ cpus: string; mems: string }> {
  const read = (f: string) => readFile(f, "utf8").then((s) => s.trim(), () => "");
  const [cpus, mems] = await Promise.all([read("/sys/devices/system/cpu/online"), read("/sys/devices/system/node/online")]);
  return { cpus: cpus || "0", mems: mems || "0" };
}

/** The OCI linux.resources fields that land in cgroup files (what runc writes on create and update). */
export interface CgroupLimits {
  memory?: { limit?: number; reservation?: number; swap?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: { weight?: number };
}

/**
 * Which file holds each limit and what it reads back, relative to /sys/fs/cgroup: v1 per controller
 * ("memory/<path>/memory.limit_in_bytes"), v2 in the one directory ("<path>/memory.max"), with runc's v1→v2
 * conversions (shares→weight, swap as memory+swap→swap alone, quota/period in one cpu.max).
 */
export function cgroupFiles(cgroupsPath: string, r: CgroupLimits, v2: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const at = (controller: string, file: string) => (v2 ? join(cgroupsPath, file) : join(controller, cgroupsPath, file));
  const m = r.memory ?? {};
  if (v2) {
    if (m.limit) out[at("", "memory.max")] = String(m.limit);
    if (m.reservation) out[at("", "memory.low")] = String(m.reservation);
    if (m.swap) out[at("", "memory.swap.max")] = m.swap === -1 ? "max" : String(m.swap - (m.limit ?? 0));
  } else {
    if (m.limit) out[at("memory", "memory.limit_in_bytes")] = String(m.limit);
    if (m.reservation) out[at("memory", "memory.soft_limit_in_bytes")] = String(m.reservation);
    if (m.swap && m.swap > 0) out[at("memory", "memory.memsw.limit_in_bytes")] = String(m.swap);
  }
  const c = r.cpu ?? {};
  if (v2) {
    if (c.shares) out[at("", "cpu.weight")] = String(sharesToWeight(c.shares));
    if (c.quota) out[at("", "cpu.max")] = `${c.quota} ${c.period ?? 100000}`;
    if (c.cpus) out[at("", "cpuset.cpus")] = c.cpus;
    if (c.mems) out[at("", "cpuset.mems")] = c.mems;
  } else {
    if (c.shares) out[at("cpu", "cpu.shares")] = String(c.shares);
    if (c.quota) out[at("cpu", "cpu.cfs_quota_us")] = String(c.quota);
    if (c.period) out[at("cpu", "cpu.cfs_period_us")] = String(c.period);
    if (c.cpus) out[at("cpuset", "cpuset.cpus")] = c.cpus;
    if (c.mems) out[at("cpuset", "cpuset.mems")] = c.mems;
  }
  if (r.pids?.limit && r.pids.limit > 0) out[at("pids", "pids.max")] = String(r.pids.limit);
  if (r.blockIO?.weight) out[v2 ? at("", "io.bfq.weight") : at("blkio", "blkio.weight")] = v2 ? `default ${r.blockIO.weight}` : String(r.blockIO.weight);
  return out;
}

/** runc's ConvertCPUSharesToCgroupV2Value: [2, 262144] onto [1, 10000]. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** Reads a file named by cgroupFiles (relative to /sys/fs/cgroup), trimmed; null when absent. */
export async function readCgroupFile(rel: string): Promise<string | null> {
  return readFile(join(ROOT, rel), "utf8").then((s) => s.trim(), () => null);
}
