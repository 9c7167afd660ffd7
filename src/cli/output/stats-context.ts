import { TemplateContext } from "./template.js";
import { bytesSize, humanSize, shortId } from "./units.js";

/** The parts of GET /containers/{id}/stats that the stats table uses. */
export interface StatsJson {
  id?: string;
  name?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> | null };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }> | null;
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
  pids_stats?: { current?: number };
}

/** One row of `stats`: docker's StatsEntry. invalid: the container's stats could not be read ("--"). */
export interface StatsEntry {
  container: string;
  name: string;
  id: string;
  cpuPercent: number;
  memory: number;
  memoryLimit: number;
  memoryPercent: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
  invalid: boolean;
}

export const STATS_TABLE = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";
export const STATS_HEADERS: Record<string, string> = {
  Container: "CONTAINER", ID: "CONTAINER ID", Name: "NAME", CPUPerc: "CPU %", MemUsage: "MEM USAGE / LIMIT", MemPerc: "MEM %",
  NetIO: "NET I/O", BlockIO: "BLOCK I/O", PIDs: "PIDS",
};

/** docker's cli/command/container/stats_helpers.go arithmetic: CPU against system time, memory without the page cache. */
export function statsEntry(container: string, s: StatsJson): StatsEntry {
  const cpu = s.cpu_stats ?? {};
  const pre = s.precpu_stats ?? {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const online = cpu.online_cpus || cpu.cpu_usage?.percpu_usage?.length || 0;
  const cpuPercent = systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
  const mem = s.memory_stats ?? {};
  const usage = mem.usage ?? 0;
  const st = mem.stats ?? {};
  let memory = usage;
  if (st.total_inactive_file !== undefined && st.total_inactive_file < usage) memory = usage - st.total_inactive_file;   // v1
  else if ((st.inactive_file ?? 0) < usage) memory = usage - (st.inactive_file ?? 0);                                   // v2
  const limit = mem.limit ?? 0;
  let netRx = 0, netTx = 0;
  for (const n of Object.values(s.networks ?? {})) { netRx += n.rx_bytes ?? 0; netTx += n.tx_bytes ?? 0; }
  let blockRead = 0, blockWrite = 0;
  for (const b of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = b.op.toLowerCase();
    if (op === "read") blockRead += b.value;
    else if (op === "write") blockWrite += b.value;
  }
  return {
    container, name: (s.name ?? "").replace(/^\//, ""), id: s.id ?? "", cpuPercent, memory, memoryLimit: limit,
    memoryPercent: limit ? (memory / limit) * 100 : 0, netRx, netTx, blockRead, blockWrite, pids: s.pids_stats?.current ?? 0, invalid: false,
  };
}

/** A row for a container whose stats stream failed: docker shows "--". */
export function invalidEntry(container: string, prev?: StatsEntry): StatsEntry {
  return { ...(prev ?? statsEntry(container, {})), container, invalid: true };
}

/** docker's formatter.statsContext. */
export function statsContext(e: StatsEntry, opts: { trunc: boolean }): TemplateContext {
  const dash = (v: () => string) => () => (e.invalid ? "--" : v());
  return new TemplateContext("*formatter.statsContext", {
    Container: () => e.container,
    Name: () => e.name || "--",
    ID: () => (opts.trunc ? shortId(e.id) : e.id),
    CPUPerc: dash(() => `${e.cpuPercent.toFixed(2)}%`),
    MemUsage: () => (e.invalid ? "-- / --" : `${bytesSize(e.memory)} / ${bytesSize(e.memoryLimit)}`),
    MemPerc: dash(() => `${e.memoryPercent.toFixed(2)}%`),
    NetIO: dash(() => `${humanSize(e.netRx, 3)} / ${humanSize(e.netTx, 3)}`),
    BlockIO: dash(() => `${humanSize(e.blockRead, 3)} / ${humanSize(e.blockWrite, 3)}`),
    PIDs: dash(() => String(e.pids)),
  });
}
