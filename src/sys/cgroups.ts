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
