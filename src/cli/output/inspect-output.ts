import { compileChecked, executeChecked } from "./list-format.js";

/** Go's json.MarshalIndent(v, "", "    "): HTML-safe escapes included. */
export function goJsonIndent(v: unknown): string {
  return JSON.stringify(v, null, 4)
    .replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const SLICE_FIELDS = new Set(["Env", "Cmd", "Entrypoint", "Args", "Binds", "CapAdd", "CapDrop", "Dns", "DnsOptions", "DnsSearch",
  "ExtraHosts", "Links", "Aliases", "ExecIDs", "OnBuild", "Shell", "GroupAdd", "VolumesFrom", "Mounts", "RepoTags", "RepoDigests",
  "Layers", "DeviceCgroupRules", "Devices", "Ulimits", "SecurityOpt", "MaskedPaths", "ReadonlyPaths", "DNSNames"]);
const MAP_FIELDS = new Set(["Labels", "Volumes", "ExposedPorts", "PortBindings", "Sysctls", "Tmpfs", "StorageOpt", "Options", "Ports", "Networks"]);

/** Docker runs inspect templates on typed structs, where a nil slice prints [] and a nil map map[]. */
export function typedNulls(v: unknown, key = ""): unknown {
  if (v === null) return SLICE_FIELDS.has(key) ? [] : MAP_FIELDS.has(key) ? {} : null;
  if (Array.isArray(v)) return v.map((x) => typedNulls(x));
  if (typeof v === "object" && v) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typedNulls(x, k)]));
  return v;
}

/** docker inspect's output: a JSON array, or one template line per element. */
export function renderInspect(items: unknown[], format: string): string {
  if (!format) return goJsonIndent(items) + "\n";
  const t = compileChecked(format.replaceAll("\\t", "\t").replaceAll("\\n", "\n"));
  return items.map((i) => executeChecked(t, typedNulls(i)) + "\n").join("");
}
