import { invalidArgument } from "../errdefs/index.js";

/** Linux capabilities by number (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40). */
export const ALL_CAPABILITIES = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
  "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
  "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
] as const;

/** Docker's default set (moby daemon/pkg/oci/caps/defaults.go), in its order. */
export const DEFAULT_CAPABILITIES = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
  "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

/** Every capability the host kernel knows (lastCap from /proc/sys/kernel/cap_last_cap). */
export function hostCapabilities(lastCap: number, bounding?: number[]): string[] {
  const all = ALL_CAPABILITIES.slice(0, Math.min(lastCap, ALL_CAPABILITIES.length - 1) + 1);
  // Root without some capability (e.g. CAP_SYS_RESOURCE here) cannot hand it to a container: runc fails with EPERM.
  return bounding ? all.filter((_, i) => bounding.includes(i)) : all;
}

function normalizeCaps(list: string[], known: string[]): string[] {
  const out: string[] = [];
  for (const raw of list) {
    const up = raw.trim().toUpperCase();
    const c = up === "ALL" ? up : up.startsWith("CAP_") ? up : `CAP_${up}`;
    if (c !== "ALL" && !(ALL_CAPABILITIES as readonly string[]).includes(c)) throw invalidArgument(`unknown capability: ${JSON.stringify(c)}`);
    if (c !== "ALL" && !known.includes(c)) continue;
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

/** Docker's TweakCapabilities: the container's capability set from the defaults, --cap-add, --cap-drop. */
export function tweakCapabilities(opts: { adds?: string[] | null; drops?: string[] | null; privileged?: boolean; hostCaps: string[] }): string[] {
  const adds = opts.adds ?? [];
  const drops = opts.drops ?? [];
  if (opts.privileged) return [...opts.hostCaps];
  if (!adds.length && !drops.length) return DEFAULT_CAPABILITIES.filter((c) => opts.hostCaps.includes(c));
  const capAdd = normalizeCaps(adds, opts.hostCaps);
  const capDrop = normalizeCaps(drops, opts.hostCaps);
  let caps: string[];
  if (capAdd.includes("ALL")) caps = opts.hostCaps.filter((c) => !capDrop.includes(c));
  else if (capDrop.includes("ALL")) caps = [...capAdd];
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !capDrop.includes(c) && opts.hostCaps.includes(c)), ...capAdd];
  return [...new Set(caps)];
}
