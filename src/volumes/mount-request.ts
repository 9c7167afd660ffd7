import { invalidArgument } from "../errdefs/index.js";
import type { MountSpec } from "../spec/engine.js";

/** One user mount, parsed from -v, --mount, --tmpfs, --volumes-from or an image VOLUME. */
export interface MountIntent {
  type: "bind" | "volume" | "tmpfs";
  /** host path (bind), volume name ("" = anonymous), unused for tmpfs */
  source: string;
  destination: string;
  readOnly: boolean;
  propagation: string;
  mode: string;                 // as inspect shows it
  noCopy: boolean;
  /** bind: create a missing host dir (-v does, --mount does not) */
  createHostPath: boolean;
  nonRecursive?: boolean;
  tmpfsOptions?: string[];
  driverOpts?: Record<string, string>;
  labels?: Record<string, string>;
  subpath?: string;
}

const PROPAGATIONS = ["private", "rprivate", "shared", "rshared", "slave", "rslave"];
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function cleanDestination(dest: string): string {
  if (!dest.startsWith("/")) throw invalidArgument(`invalid mount config: invalid mount path: '${dest}' mount path must be absolute`);
  const norm = "/" + dest.split("/").filter((c) => c && c !== ".").join("/");
  if (norm.split("/").includes("..")) throw invalidArgument(`invalid mount path: '${dest}'`);
  if (norm === "/") throw invalidArgument(`invalid specification: destination can't be '/'`);
  return norm;
}

export function checkVolumeName(name: string): void {
  if (!VOLUME_NAME.test(name)) {
    throw invalidArgument(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

/** -v forms: /dst (anonymous), name:/dst[:opts], /host:/dst[:opts]. */
export function parseBindSpec(spec: string): MountIntent {
  const parts = spec.split(":");
  if (parts.length === 1) {
    return { type: "volume", source: "", destination: cleanDestination(spec), readOnly: false, propagation: "", mode: "", noCopy: false, createHostPath: false };
  }
  if (parts.length > 3 || !parts[0] || !parts[1]) throw invalidArgument(`invalid volume specification: '${spec}'`);
  const [src, dst, mode = ""] = parts as [string, string, string?];
  const isBind = src.startsWith("/");
  if (!isBind) checkVolumeName(src);
  const m: MountIntent = {
    type: isBind ? "bind" : "volume", source: src, destination: cleanDestination(dst), readOnly: false,
    propagation: isBind ? "rprivate" : "", mode, noCopy: false, createHostPath: true,
  };
  for (const o of mode ? mode.split(",") : []) {
    if (o === "ro") m.readOnly = true;
    else if (o === "rw") m.readOnly = false;
    else if (PROPAGATIONS.includes(o) && isBind) m.propagation = o;
    else if (o === "nocopy" && !isBind) m.noCopy = true;
    else if (o === "z" || o === "Z" || o === "consistent" || o === "cached" || o === "delegated") continue;
    else throw invalidArgument(`invalid mode: ${o}`);
  }
  return m;
}

function tmpfsData(opts: string[]): string[] {
  const has = (a: string, b: string) => opts.includes(a) || opts.includes(b);
  const out = [...opts];
  if (!has("exec", "noexec")) out.unshift("noexec");
  if (!has("suid", "nosuid")) out.unshift("nosuid");
  if (!has("dev", "nodev")) out.unshift("nodev");
  return out;
}

/** --mount (HostConfig.Mounts). */
export function parseMountSpec(s: MountSpec): MountIntent {
  if (!s.Target) throw invalidArgument("invalid mount config: Target must not be empty");
  const destination = cleanDestination(s.Target);
  switch (s.Type) {
    case "bind": {
      if (!s.Source) throw invalidArgument(`invalid mount config for type "bind": field Source must not be empty`);
      if (!s.Source.startsWith("/")) throw invalidArgument(`invalid mount config for type "bind": invalid mount path: '${s.Source}' mount path must be absolute`);
      const prop = s.BindOptions?.Propagation || "rprivate";
      if (!PROPAGATIONS.includes(prop)) throw invalidArgument(`invalid mount config for type "bind": invalid propagation mode: ${prop}`);
      const m: MountIntent = { type: "bind", source: s.Source, destination, readOnly: !!s.ReadOnly, propagation: prop, mode: "", noCopy: false, createHostPath: !!s.BindOptions?.CreateMountpoint };
      if (s.BindOptions?.NonRecursive) m.nonRecursive = true;
      return m;
    }
    case "volume": {
      if (s.Source) checkVolumeName(s.Source);
      const m: MountIntent = { type: "volume", source: s.Source ?? "", destination, readOnly: !!s.ReadOnly, propagation: "", mode: "z", noCopy: !!s.VolumeOptions?.NoCopy, createHostPath: false };
      if (s.VolumeOptions?.DriverConfig?.Name && s.VolumeOptions.DriverConfig.Name !== "local") throw invalidArgument(`error while mounting volume: volume driver "${s.VolumeOptions.DriverConfig.Name}" is not supported`);
      if (s.VolumeOptions?.DriverConfig?.Options) m.driverOpts = s.VolumeOptions.DriverConfig.Options;
      if (s.VolumeOptions?.Labels) m.labels = s.VolumeOptions.Labels;
      if (s.VolumeOptions?.Subpath) m.subpath = s.VolumeOptions.Subpath;
      return m;
    }
    case "tmpfs": {
      if (s.Source) throw invalidArgument(`invalid mount config for type "tmpfs": field Source must not be specified`);
      const data: string[] = [];
      if (s.TmpfsOptions?.SizeBytes) data.push(`size=${Math.floor(s.TmpfsOptions.SizeBytes / 1024)}k`);
      if (s.TmpfsOptions?.Mode) data.push(`mode=${s.TmpfsOptions.Mode.toString(8)}`);
      for (const o of s.TmpfsOptions?.Options ?? []) data.push(o.length > 1 ? `${o[0]}=${o[1]}` : String(o[0]));
      return { type: "tmpfs", source: "", destination, readOnly: !!s.ReadOnly, propagation: "", mode: "", noCopy: true, createHostPath: false, tmpfsOptions: tmpfsData(data) };
    }
    default:
      throw invalidArgument(`invalid mount config: mount type unknown: "${s.Type}"`);
  }
}

/** --tmpfs /dst:opts (HostConfig.Tmpfs). */
export function parseTmpfs(dest: string, opts: string): MountIntent {
  const list = opts ? opts.split(",").filter(Boolean) : [];
  return {
    type: "tmpfs", source: "", destination: cleanDestination(dest), readOnly: list.includes("ro"), propagation: "", mode: opts,
    noCopy: true, createHostPath: false, tmpfsOptions: tmpfsData(list.filter((o) => o !== "ro" && o !== "rw")),
  };
}
