import { readFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";

const ROOT = "/sys/fs/cgroup";
const USER_HZ = 100;

export interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface NetworkStats { rx_bytes: number; rx_packets: number; rx_errors: number; rx_dropped: number; tx_bytes: number; tx_packets: number; tx_errors: number; tx_dropped: number }
export interface BlkioEntry { major: number; minor: number; op: string; value: number }

/** Docker's container stats (api/types/container.StatsResponse). */
export interface ContainerStats {
  name: string;
  id: string;
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: {
    io_service_bytes_recursive: BlkioEntry[] | null; io_serviced_recursive: BlkioEntry[] | null; io_queue_recursive: BlkioEntry[] | null;
    io_service_time_recursive: BlkioEntry[] | null; io_wait_time_recursive: BlkioEntry[] | null; io_merged_recursive: BlkioEntry[] | null;
    io_time_recursive: BlkioEntry[] | null; sectors_recursive: BlkioEntry[] | null;
  };
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: { usage?: number; max_usage?: number; limit?: number; failcnt?: number; stats?: Record<string, number> };
  networks?: Record<string, NetworkStats>;
}

export const ZERO_TIME_STATS = "0001-01-01T00:00:00Z";

export function emptyCpu(): CpuStats {
  return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
}

/** A stats body of zeros: what Docker streams for a container that is not running. */
export function emptyStats(id: string, name: string): ContainerStats {
  return {
    name, id, read: ZERO_TIME_STATS, preread: ZERO_TIME_STATS, pids_stats: {}, num_procs: 0, storage_stats: {},
    blkio_stats: {
      io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null,
      io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
    },
    cpu_stats: emptyCpu(), precpu_stats: emptyCpu(), memory_stats: {},
  };
}

const read = (f: string) => readFile(f, "utf8").catch(() => null);
const num = (s: string | null) => (s === null ? undefined : Number(s.trim()));

function keyValues(text: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? "").split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** The host's cumulative CPU time in nanoseconds (/proc/stat's cpu line) and the online CPU count. */
export async function systemCpu(): Promise<{ usage: number; online: number }> {
  const text = (await read("/proc/stat")) ?? "";
  let usage = 0;
  let online = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("cpu ")) {
      usage = line.trim().split(/\s+/).slice(1, 8).reduce((a, b) => a + Number(b), 0) * (1e9 / USER_HZ);
    } else if (/^cpu\d/.test(line)) online++;
  }
  return { usage, online: online || cpus().length };
}

async function networkStats(pid: number): Promise<Record<string, NetworkStats> | undefined> {
  if (!pid) return undefined;
  const text = await read(`/proc/${pid}/net/dev`);
  if (!text) return undefined;
  const out: Record<string, NetworkStats> = {};
  for (const line of text.split("\n").slice(2)) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    if (name === "lo") continue;
    const f = line.slice(i + 1).trim().split(/\s+/).map(Number);
    out[name] = {
      rx_bytes: f[0]!, rx_packets: f[1]!, rx_errors: f[2]!, rx_dropped: f[3]!,
      tx_bytes: f[8]!, tx_packets: f[9]!, tx_errors: f[10]!, tx_dropped: f[11]!,
    };
  }
  return Object.keys(out).length ? out : undefined;
}

function blkioEntries(text: string | null): BlkioEntry[] | null {
  if (!text) return null;
  const out: BlkioEntry[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) });
  }
  return out.length ? out : null;
}

/** One reading of a container's cgroup (v1 controllers or the v2 unified tree); precpu_stats left empty. */
export async function readCgroupStats(o: { id: string; name: string; cgroupsPath: string; pid: number; v2: boolean }): Promise<ContainerStats> {
  const s = emptyStats(o.id, o.name);
  const sys = await systemCpu();
  s.read = new Date().toISOString();
  if (o.v2) {
    const dir = join(ROOT, o.cgroupsPath);
    const [cpuStat, memCur, memMax, memStat, pidsCur, pidsMax, io, net] = await Promise.all([
      read(join(dir, "cpu.stat")), read(join(dir, "memory.current")), read(join(dir, "memory.max")), read(join(dir, "memory.stat")),
      read(join(dir, "pids.current")), read(join(dir, "pids.max")), read(join(dir, "io.stat")), networkStats(o.pid),
    ]);
    const c = keyValues(cpuStat);
    s.cpu_stats = {
      cpu_usage: { total_usage: (c.usage_usec ?? 0) * 1000, usage_in_kernelmode: (c.system_usec ?? 0) * 1000, usage_in_usermode: (c.user_usec ?? 0) * 1000 },
      system_cpu_usage: sys.usage, online_cpus: sys.online,
      throttling_data: { periods: c.nr_periods ?? 0, throttled_periods: c.nr_throttled ?? 0, throttled_time: (c.throttled_usec ?? 0) * 1000 },
    };
    const limit = memMax && memMax.trim() !== "max" ? Number(memMax.trim()) : await hostMemory();
    s.memory_stats = { usage: num(memCur) ?? 0, limit, stats: keyValues(memStat) };
    s.pids_stats = { current: num(pidsCur) ?? 0, ...(pidsMax && pidsMax.trim() !== "max" ? { limit: Number(pidsMax.trim()) } : {}) };
    const entries: BlkioEntry[] = [];
    for (const line of (io ?? "").split("\n")) {
      const m = /^(\d+):(\d+) (.*)$/.exec(line.trim());
      if (!m) continue;
      const kv = Object.fromEntries(m[3]!.split(" ").map((p) => p.split("=")).map(([k, v]) => [k, Number(v)]));
      entries.push({ major: Number(m[1]), minor: Number(m[2]), op: "read", value: kv.rbytes ?? 0 }, { major: Number(m[1]), minor: Number(m[2]), op: "write", value: kv.wbytes ?? 0 });
    }
    if (entries.length) s.blkio_stats.io_service_bytes_recursive = entries;
    if (net) s.networks = net;
    return s;
  }
  const cg = (ctl: string, file: string) => read(join(ROOT, ctl, o.cgroupsPath, file));
  const [usage, percpu, cpuacctStat, cpuStat, memUsage, memMaxUsage, memLimit, memFail, memStat, pidsCur, pidsMax, blkBytes, blkOps, net] = await Promise.all([
    cg("cpuacct", "cpuacct.usage"), cg("cpuacct", "cpuacct.usage_percpu"), cg("cpuacct", "cpuacct.stat"), cg("cpu", "cpu.stat"),
    cg("memory", "memory.usage_in_bytes"), cg("memory", "memory.max_usage_in_bytes"), cg("memory", "memory.limit_in_bytes"),
    cg("memory", "memory.failcnt"), cg("memory", "memory.stat"), cg("pids", "pids.current"), cg("pids", "pids.max"),
    cg("blkio", "blkio.throttle.io_service_bytes"), cg("blkio", "blkio.throttle.io_serviced"), networkStats(o.pid),
  ]);
  const ticks = keyValues(cpuacctStat);
  const thr = keyValues(cpuStat);
  s.cpu_stats = {
    cpu_usage: {
      total_usage: num(usage) ?? 0,
      ...(percpu ? { percpu_usage: percpu.trim().split(/\s+/).filter(Boolean).map(Number) } : {}),
      usage_in_kernelmode: (ticks.system ?? 0) * (1e9 / USER_HZ), usage_in_usermode: (ticks.user ?? 0) * (1e9 / USER_HZ),
    },
    system_cpu_usage: sys.usage, online_cpus: sys.online,
    throttling_data: { periods: thr.nr_periods ?? 0, throttled_periods: thr.nr_throttled ?? 0, throttled_time: thr.throttled_time ?? 0 },
  };
  const hostMem = await hostMemory();
  const rawLimit = num(memLimit);
  s.memory_stats = {
    usage: num(memUsage) ?? 0, max_usage: num(memMaxUsage) ?? 0, failcnt: num(memFail) ?? 0,
    limit: rawLimit === undefined || rawLimit > hostMem ? hostMem : rawLimit, stats: keyValues(memStat),
  };
  const pm = pidsMax?.trim();
  s.pids_stats = { current: num(pidsCur) ?? 0, ...(pm && pm !== "max" ? { limit: Number(pm) } : {}) };
  s.blkio_stats.io_service_bytes_recursive = blkioEntries(blkBytes);
  s.blkio_stats.io_serviced_recursive = blkioEntries(blkOps);
  if (net) s.networks = net;
  return s;
}

let memTotal: number | null = null;
async function hostMemory(): Promise<number> {
  if (memTotal !== null) return memTotal;
  const m = /MemTotal:\s+(\d+) kB/.exec((await read("/proc/meminfo")) ?? "");
  memTotal = m ? Number(m[1]) * 1024 : 0;
  return memTotal;
}
