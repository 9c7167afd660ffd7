import { invalidArgument } from "../errdefs/index.js";
import type { HostConfig } from "../spec/engine.js";

const MIN_MEMORY = 6 * 1024 * 1024;
const MIN_SHARES = 2;
const MAX_SHARES = 262144;

/** What the host offers, for the range checks: CPU and memory-node lists as in cpuset ("0-3,6"). */
export interface HostResources { cpus: string; mems: string }

/** Parses a cpuset list ("0-2,4"); null when malformed. */
export function parseCpuset(list: string): Set<number> | null {
  const out = new Set<number>();
  if (!list.trim()) return out;
  for (const part of list.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return null;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 65536) return null;
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

/**
 * Docker's verifyPlatformContainerResources and adaptContainerSettings for the inline resources: the same checks
 * and messages, CPU shares clamped to the kernel's range. Mutates hc only for the clamping; throws invalid-argument.
 */
export function checkResources(hc: Partial<HostConfig>, host: HostResources): void {
  const mem = hc.Memory ?? 0;
  if (mem !== 0 && mem < MIN_MEMORY) throw invalidArgument("Minimum memory limit allowed is 6MB");
  const swap = hc.MemorySwap ?? 0;
  if (mem > 0 && swap > 0 && swap < mem) throw invalidArgument("Minimum memoryswap limit should be larger than memory limit, see usage");
  const swappiness = hc.MemorySwappiness;
  if (swappiness !== undefined && swappiness !== null && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw invalidArgument(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  const reservation = hc.MemoryReservation ?? 0;
  if (reservation < 0 || (reservation > 0 && reservation < MIN_MEMORY)) throw invalidArgument("Minimum memory reservation allowed is 6MB");
  if (mem > 0 && reservation > 0 && mem < reservation) throw invalidArgument("Minimum memory limit can not be less than memory reservation limit, see usage");
  const nano = hc.NanoCpus ?? 0;
  if (nano > 0 && (hc.CpuPeriod ?? 0) > 0) throw invalidArgument("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (nano > 0 && (hc.CpuQuota ?? 0) > 0) throw invalidArgument("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  const ncpu = parseCpuset(host.cpus)?.size || 1;
  if (nano < 0 || nano > ncpu * 1e9) throw invalidArgument(`Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  const period = hc.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1000000)) throw invalidArgument("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  const quota = hc.CpuQuota ?? 0;
  if (quota > 0 && quota < 1000) throw invalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  checkSet(hc.CpusetCpus, host.cpus, "cpuset cpus", "CPUs");
  checkSet(hc.CpusetMems, host.mems, "cpuset mems", "memory nodes");
  const blkio = hc.BlkioWeight ?? 0;
  if (blkio !== 0 && (blkio < 10 || blkio > 1000)) throw invalidArgument("Range of blkio weight is from 10 to 1000");
  if (hc.CpuShares !== undefined && hc.CpuShares !== 0) {
    if (hc.CpuShares < MIN_SHARES) hc.CpuShares = MIN_SHARES;
    else if (hc.CpuShares > MAX_SHARES) hc.CpuShares = MAX_SHARES;
  }
  if (hc.ShmSize !== undefined && hc.ShmSize < 0) throw invalidArgument("SHM size can not be less than 0");
}

function checkSet(requested: string | undefined, available: string, what: string, noun: string): void {
  if (!requested) return;
  const want = parseCpuset(requested);
  if (!want) throw invalidArgument(`Invalid value ${requested} for ${what}`);
  const have = parseCpuset(available) ?? new Set<number>();
  if ([...want].some((c) => !have.has(c))) throw invalidArgument(`Requested ${noun} are not available - requested ${requested}, available: ${available}`);
}
