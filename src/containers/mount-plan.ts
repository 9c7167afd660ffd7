import { invalidArgument, notImplemented } from "../errdefs/index.js";
import type { HostConfig, MountPoint } from "../spec/engine.js";
import type { OciMount } from "../spec/oci-runtime.js";

/** A user mount after parsing Binds, Mounts and Tmpfs, before it becomes an OCI mount. */
export interface PlannedMount {
  type: "bind" | "tmpfs";
  source: string;               // host path for binds, "tmpfs" for tmpfs
  destination: string;
  readOnly: boolean;
  propagation: string;          // rprivate by default
  options: string[];            // extra data options (tmpfs size=, mode=)
  nonRecursive?: boolean;
  createHostPath: boolean;      // Binds create a missing host dir; Mounts reject it
  mode: string;                 // as Docker shows it in inspect Mounts[].Mode
}

const PROPAGATIONS = ["private", "rprivate", "shared", "rshared", "slave", "rslave"];

function cleanDest(dest: string, spec: string): string {
  if (!dest.startsWith("/")) throw invalidArgument(`invalid mount config: invalid mount path: '${dest}' mount path must be absolute`);
  const norm = "/" + dest.split("/").filter((c) => c && c !== ".").join("/");
  if (norm === "/") throw invalidArgument(`invalid specification: destination can't be '/' in '${spec}'`);
  return norm;
}

function parseBind(spec: string): PlannedMount {
  const parts = spec.split(":");
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) throw invalidArgument(`invalid volume specification: '${spec}'`);
  const [src, dst, mode = ""] = parts as [string, string, string?];
  if (!src.startsWith("/")) throw notImplemented(`named volumes are not supported yet: '${spec}'`);
  let readOnly = false;
  let propagation = "rprivate";
  for (const o of mode ? mode.split(",") : []) {
    if (o === "ro") readOnly = true;
    else if (o === "rw") readOnly = false;
    else if (PROPAGATIONS.includes(o)) propagation = o;
    else if (o === "z" || o === "Z" || o === "nocopy" || o === "consistent" || o === "cached" || o === "delegated") continue;
    else throw invalidArgument(`invalid mode: ${o}`);
  }
  return { type: "bind", source: src, destination: cleanDest(dst, spec), readOnly, propagation, options: [], createHostPath: true, mode };
}

function tmpfsData(opts: string[]): string[] {
  // Docker: defaults noexec,nosuid,nodev unless the user's options say otherwise.
  const out = [...opts];
  const has = (a: string, b: string) => opts.includes(a) || opts.includes(b);
  if (!has("exec", "noexec")) out.unshift("noexec");
  if (!has("suid", "nosuid")) out.unshift("nosuid");
  if (!has("dev", "nodev")) out.unshift("nodev");
  return out;
}

/** Binds, Mounts and Tmpfs of a HostConfig as one list. Throws on overlapping destinations. */
export function planMounts(hc: HostConfig): PlannedMount[] {
  const out: PlannedMount[] = [];
  for (const b of hc.Binds ?? []) out.push(parseBind(b));
  for (const m of hc.Mounts ?? []) {
    if (!m.Target) throw invalidArgument("invalid mount config: Target must not be empty");
    if (m.Type === "bind") {
      if (!m.Source) throw invalidArgument(`invalid mount config for type "bind": field Source must not be empty`);
      if (!m.Source.startsWith("/")) throw invalidArgument(`invalid mount config for type "bind": invalid mount path: '${m.Source}' mount path must be absolute`);
      const pm: PlannedMount = {
        type: "bind", source: m.Source, destination: cleanDest(m.Target, m.Target), readOnly: !!m.ReadOnly,
        propagation: m.BindOptions?.Propagation || "rprivate", options: [], createHostPath: !!m.BindOptions?.CreateMountpoint, mode: "",
      };
      if (m.BindOptions?.NonRecursive) pm.nonRecursive = true;
      out.push(pm);
    } else if (m.Type === "tmpfs") {
      if (m.Source) throw invalidArgument(`invalid mount config for type "tmpfs": field Source must not be specified`);
      const data: string[] = [];
      if (m.TmpfsOptions?.SizeBytes) data.push(`size=${Math.floor(m.TmpfsOptions.SizeBytes / 1024)}k`);
      if (m.TmpfsOptions?.Mode) data.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
      for (const o of m.TmpfsOptions?.Options ?? []) data.push(o.length > 1 ? `${o[0]}=${o[1]}` : String(o[0]));
      out.push({ type: "tmpfs", source: "tmpfs", destination: cleanDest(m.Target, m.Target), readOnly: !!m.ReadOnly, propagation: "rprivate", options: tmpfsData(data), createHostPath: false, mode: "" });
    } else if (m.Type === "volume") {
      throw notImplemented(`mount type "volume" is not supported yet`);
    } else {
      throw invalidArgument(`invalid mount config: mount type unknown: "${m.Type}"`);
    }
  }
  for (const [dest, opts] of Object.entries(hc.Tmpfs ?? {})) {
    const list = opts ? opts.split(",").filter(Boolean) : [];
    const ro = list.includes("ro");
    const data = list.filter((o) => o !== "ro" && o !== "rw");
    out.push({ type: "tmpfs", source: "tmpfs", destination: cleanDest(dest, dest), readOnly: ro, propagation: "rprivate", options: tmpfsData(data), createHostPath: false, mode: opts ?? "" });
  }
  const seen = new Set<string>();
  for (const m of out) {
    if (seen.has(m.destination)) throw invalidArgument(`Duplicate mount point: ${m.destination}`);
    seen.add(m.destination);
  }
  return out;
}

export function ociMountOf(m: PlannedMount): OciMount {
  if (m.type === "tmpfs") {
    return { destination: m.destination, type: "tmpfs", source: "tmpfs", options: [...m.options, m.readOnly ? "ro" : "rw", m.propagation] };
  }
  const opts = [m.nonRecursive ? "bind" : "rbind", m.propagation];
  if (m.readOnly) opts.push("ro");
  return { destination: m.destination, type: "bind", source: m.source, options: opts };
}

/** inspect's Mounts entry. */
export function mountPointOf(m: PlannedMount): MountPoint {
  return {
    Type: m.type, Source: m.type === "bind" ? m.source : "", Destination: m.destination, Mode: m.mode,
    RW: !m.readOnly, Propagation: m.type === "bind" ? m.propagation : "",
  };
}
