import { readdir, readFile, stat, access } from "node:fs/promises";
import { release } from "node:os";
import { join } from "node:path";
import type { OciDevice } from "../spec/oci-runtime.js";
import { isCgroupV2 } from "./cgroups.js";

export interface HostInfo {
  kernel: string;
  lastCap: number;
  bounding: number[];           // capability numbers in this process's bounding set (what a container can get)
  cgroupV2: boolean;
  rlimitHard: Record<string, number>;
  maskedExtra: string[];
}

/** Hard limits of this process by rlimit name ("nofile", "nproc", ...); -1 for unlimited. */
async function hardLimits(): Promise<Record<string, number>> {
  const names: Record<string, string> = {
    "Max cpu time": "cpu", "Max file size": "fsize", "Max data size": "data", "Max stack size": "stack", "Max core file size": "core",
    "Max resident set": "rss", "Max processes": "nproc", "Max open files": "nofile", "Max locked memory": "memlock",
    "Max address space": "as", "Max file locks": "locks", "Max pending signals": "sigpending", "Max msgqueue size": "msgqueue",
    "Max nice priority": "nice", "Max realtime priority": "rtprio", "Max realtime timeout": "rttime",
  };
  const out: Record<string, number> = {};
  try {
    for (const line of (await readFile("/proc/self/limits", "utf8")).split("\n").slice(1)) {
      const m = /^(.+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
      if (!m) continue;
      const key = names[m[1]!.trim()];
      if (key) out[key] = m[3] === "unlimited" ? -1 : Number(m[3]);
    }
  } catch { /* no limits known */ }
  return out;
}

export async function gatherHostInfo(): Promise<HostInfo> {
  const [lastCapText, status, cgroupV2, rlimitHard] = await Promise.all([
    readFile("/proc/sys/kernel/cap_last_cap", "utf8").catch(() => "40"),
    readFile("/proc/self/status", "utf8").catch(() => ""),
    isCgroupV2(),
    hardLimits(),
  ]);
  const maskedExtra: string[] = [];
  try {
    for (const d of await readdir("/sys/devices/system/cpu")) {
      if (!/^cpu\d+$/.test(d)) continue;
      const p = join("/sys/devices/system/cpu", d, "thermal_throttle");
      if (await access(p).then(() => true, () => false)) maskedExtra.push(p);
    }
  } catch { /* none */ }
  const lastCap = Number(lastCapText.trim());
  const bnd = /CapBnd:\s+([0-9a-f]+)/.exec(status);
  const mask = bnd ? BigInt(`0x${bnd[1]}`) : (1n << BigInt(lastCap + 1)) - 1n;
  const bounding: number[] = [];
  for (let i = 0; i <= lastCap; i++) if (mask & (1n << BigInt(i))) bounding.push(i);
  return { kernel: release(), lastCap, bounding, cgroupV2, rlimitHard, maskedExtra };
}

/** Host device nodes under /dev (one level of subdirectories), for --privileged and --device. */
export async function hostDevices(): Promise<OciDevice[]> {
  const out: OciDevice[] = [];
  const walk = async (dir: string, depth: number) => {
    let names: string[];
    try { names = await readdir(dir); } catch { return; }
    for (const n of names) {
      const p = join(dir, n);
      if (p === "/dev/pts" || p === "/dev/shm" || p === "/dev/mqueue" || p === "/dev/console" || p === "/dev/ptmx") continue;
      let st;
      try { st = await stat(p); } catch { continue; }
      if (st.isDirectory()) { if (depth < 1) await walk(p, depth + 1); continue; }
      if (!st.isCharacterDevice() && !st.isBlockDevice()) continue;
      const rdev = st.rdev;
      const major = Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
      const minor = Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn);
      out.push({ type: st.isCharacterDevice() ? "c" : "b", path: p, major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
    }
  };
  await walk("/dev", 0);
  return out;
}
