import { compileChecked, executeChecked } from "./list-format.js";
import { goJson } from "./template.js";

/** Go's json.MarshalIndent(v, "", "    "): HTML-safe escapes included. */
export function goJsonIndent(v: unknown): string {
  return JSON.stringify(v, null, 4)
    .replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const SLICE_FIELDS = new Set(["Env", "Cmd", "Entrypoint", "Args", "Binds", "CapAdd", "CapDrop", "Dns", "DnsOptions", "DnsSearch",
  "ExtraHosts", "Links", "Aliases", "ExecIDs", "OnBuild", "Shell", "GroupAdd", "VolumesFrom", "Mounts", "RepoTags", "RepoDigests",
  "Layers", "DeviceCgroupRules", "Devices", "Ulimits", "SecurityOpt", "MaskedPaths", "ReadonlyPaths", "DNSNames"]);
const MAP_FIELDS = new Set(["Labels", "Volumes", "ExposedPorts", "PortBindings", "Sysctls", "Tmpfs", "StorageOpt", "Options", "Ports", "Networks"]);

/** docker inspect's output: a JSON array, or one template line per element. */
export function renderInspect(items: unknown[], format: string): string {
  if (!format) return goJsonIndent(items) + "\n";
  if (format === "json") return goJson(items) + "\n";
  const t = compileChecked(format.replaceAll("\\t", "\t").replaceAll("\\n", "\n"));
  // docker runs inspect templates on typed structs, where a nil slice prints [] and a nil map map[]
  return items.map((i) => executeChecked(t, i, { nilSlices: SLICE_FIELDS, nilMaps: MAP_FIELDS }) + "\n").join("");
}
