import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { invalidArgument } from "../errdefs/index.js";
import type { LogLevel } from "../util/index.js";

export interface DaemonConfig {
  dataRoot: string;
  execRoot: string;
  hosts: string[];
  runtime: "runc" | "crun";
  logLevel: LogLevel;
  registryMirrors: string[];
  insecureRegistries: string[];
  allowedRegistries: string[];
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  /** A registry served inside berthd ("registry": {"addr": "127.0.0.1:5000", "root": "/var/lib/berth-registry"}); null: none. */
  registry: EmbeddedRegistryConfig | null;
  bip: string;
  defaultAddressPools: { base: string; size: number }[];
  dns: string[];
  /** Name of the default bridge device (dockerd's --bridge). */
  bridge: string;
  /** Prefix of Berth's iptables chains; distinct per daemon sharing a host. */
  chainPrefix: string;
  /** The daemon.json path (explicit or default; it may not exist). */
  configFile: string;
}

export interface EmbeddedRegistryConfig {
  addr: string;
  root: string;
  htpasswd?: string;
  tlsCert?: string;
  tlsKey?: string;
  readOnly?: boolean;
  delete?: boolean;
}

type Kind = "string" | "string[]" | "pools" | "int" | "registry";

interface ConfigDef {
  /** daemon.json key */
  key: string;
  field: Exclude<keyof DaemonConfig, "configFile">;
  kind: Kind;
  flag?: string;
  short?: string;
  choices?: readonly string[];
  path?: boolean;
  reloadable?: boolean;
  summary: string;
}

export const DEFAULT_CONFIG_FILE = "/etc/berth/daemon.json";

/** The one table of daemon settings: flags and daemon.json keys derive from it. */
export const CONFIG_DEFS: readonly ConfigDef[] = [
  { key: "data-root", field: "dataRoot", kind: "string", flag: "--data-root", path: true, summary: "Root directory of persistent Berth state" },
  { key: "exec-root", field: "execRoot", kind: "string", flag: "--exec-root", path: true, summary: "Root directory for execution state files" },
  { key: "hosts", field: "hosts", kind: "string[]", flag: "--host", short: "-H", summary: "Daemon socket(s) to connect to" },
  { key: "runtime", field: "runtime", kind: "string", flag: "--runtime", choices: ["runc", "crun"], summary: "Default OCI runtime for containers" },
  { key: "log-level", field: "logLevel", kind: "string", flag: "--log-level", short: "-l", choices: ["debug", "info", "warn", "error"], reloadable: true, summary: "Set the logging level" },
  { key: "registry-mirrors", field: "registryMirrors", kind: "string[]", flag: "--registry-mirror", summary: "Preferred registry mirror" },
  { key: "allowed-registries", field: "allowedRegistries", kind: "string[]", flag: "--allowed-registry", summary: "Only contact these registries (host, host:port or CIDR); empty allows all" },
  { key: "insecure-registries", field: "insecureRegistries", kind: "string[]", flag: "--insecure-registry", summary: "Enable insecure registry communication" },
  { key: "max-concurrent-downloads", field: "maxConcurrentDownloads", kind: "int", flag: "--max-concurrent-downloads", summary: "Set the max concurrent downloads" },
  { key: "max-concurrent-uploads", field: "maxConcurrentUploads", kind: "int", flag: "--max-concurrent-uploads", summary: "Set the max concurrent uploads" },
  { key: "registry", field: "registry", kind: "registry", summary: "Serve an OCI registry from berthd ({addr, root, htpasswd, tlsCert, tlsKey, readOnly, delete})" },
  { key: "bip", field: "bip", kind: "string", flag: "--bip", summary: "Specify default-bridge IP" },
  { key: "default-address-pools", field: "defaultAddressPools", kind: "pools", summary: "Default address pools for node specific local networks" },
  { key: "dns", field: "dns", kind: "string[]", flag: "--dns", summary: "DNS server to use" },
  { key: "bridge", field: "bridge", kind: "string", flag: "--bridge", short: "-b", summary: "Name of the default bridge device" },
  { key: "iptables-chain-prefix", field: "chainPrefix", kind: "string", flag: "--iptables-chain-prefix", summary: "Prefix of Berth's iptables chains" },
];

export const DEFAULTS: Omit<DaemonConfig, "configFile"> = {
  dataRoot: "/var/lib/berth",
  execRoot: "/run/berth",
  hosts: ["unix:///run/berth/berth.sock"],
  runtime: "runc",
  logLevel: "info",
  registryMirrors: [],
  insecureRegistries: [],
  allowedRegistries: [],
  maxConcurrentDownloads: 3,
  maxConcurrentUploads: 5,
  registry: null,
  bip: "",
  defaultAddressPools: [],
  dns: [],
  bridge: "berth0",
  chainPrefix: "BERTH",
};

type Values = Partial<Record<ConfigDef["field"], unknown>>;

export interface ParsedFlags {
  values: Values;
  /** daemon.json keys set by a flag (to detect conflicts with the file). */
  keys: Set<string>;
  configFile?: string;
  help: boolean;
  version: boolean;
}

export function parseFlags(argv: string[]): ParsedFlags {
  const out: ParsedFlags = { values: {}, keys: new Set(), help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") { out.help = true; continue; }
    if (arg === "--version" || arg === "-v") { out.version = true; continue; }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const takeValue = (): string => {
      if (eq !== -1) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw invalidArgument(`flag needs an argument: ${name}`);
      return v;
    };
    if (name === "--config-file" || name === "--config") {
      out.configFile = takeValue();
      continue;
    }
    const def = CONFIG_DEFS.find((d) => d.flag === name || (d.short !== undefined && d.short === name));
    if (!def?.flag) throw invalidArgument(`unknown flag: ${name}`);
    const v = takeValue();
    if (def.kind === "string[]") out.values[def.field] = [...((out.values[def.field] as string[] | undefined) ?? []), v];
    else out.values[def.field] = v;
    out.keys.add(def.key);
  }
  return out;
}

/** Flags over daemon.json over defaults, validated like dockerd: unknown keys and flag/file conflicts are errors. */
export async function loadConfig(argv: string[]): Promise<DaemonConfig & { help: boolean; version: boolean }> {
  const flags = parseFlags(argv);
  const explicit = flags.configFile !== undefined;
  const file = flags.configFile ?? DEFAULT_CONFIG_FILE;
  const fromFile = await readConfigFile(file, explicit);
  const conflicts = [...flags.keys].filter((k) => fromFile !== null && k in fromFile);
  if (conflicts.length > 0) {
    const detail = conflicts.map((k) => {
      const def = CONFIG_DEFS.find((d) => d.key === k)!;
      return `${k}: (from flag: ${JSON.stringify(flags.values[def.field])}, from file: ${JSON.stringify(fromFile![k])})`;
    });
    throw invalidArgument(`the following directives are specified both as a flag and in the configuration file: ${detail.join(", ")}`);
  }
  const merged: Record<string, unknown> = { ...DEFAULTS };
  for (const def of CONFIG_DEFS) {
    const raw = flags.keys.has(def.key) ? flags.values[def.field] : fromFile?.[def.key];
    if (raw === undefined) continue;
    merged[def.field] = validate(def, raw);
  }
  return { ...(merged as Omit<DaemonConfig, "configFile">), configFile: file, help: flags.help, version: flags.version };
}

/** The settings a running daemon can take from daemon.json again (SIGHUP). */
export async function reloadConfig(file: string): Promise<Partial<DaemonConfig>> {
  const fromFile = (await readConfigFile(file, false)) ?? {};
  const out: Record<string, unknown> = {};
  for (const def of CONFIG_DEFS) {
    if (def.reloadable && fromFile[def.key] !== undefined) out[def.field] = validate(def, fromFile[def.key]);
  }
  return out as Partial<DaemonConfig>;
}

async function readConfigFile(file: string, explicit: boolean): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && !explicit) return null;
    throw invalidArgument(`unable to configure the daemon with file ${file}: ${(err as Error).message}`);
  }
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`unable to configure the daemon with file ${file}: invalid JSON: ${(err as Error).message}`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw invalidArgument(`unable to configure the daemon with file ${file}: the configuration must be a JSON object`);
  }
  const unknown = Object.keys(value).filter((k) => !CONFIG_DEFS.some((d) => d.key === k));
  if (unknown.length > 0) {
    throw invalidArgument(`the following directives don't match any configuration option: ${unknown.join(", ")}`);
  }
  return value as Record<string, unknown>;
}

function validate(def: ConfigDef, raw: unknown): unknown {
  const bad = (why: string) => invalidArgument(`invalid value for ${def.key}: ${why}`);
  switch (def.kind) {
    case "string": {
      if (typeof raw !== "string") throw bad("must be a string");
      if (def.choices && !def.choices.includes(raw)) throw bad(`${JSON.stringify(raw)} is not one of ${def.choices.join(", ")}`);
      if (def.path) {
        if (raw === "") throw bad("must not be empty");
        return isAbsolute(raw) ? raw : resolve(raw);
      }
      return raw;
    }
    case "string[]": {
      const list = typeof raw === "string" ? [raw] : raw;
      if (!Array.isArray(list) || !list.every((x) => typeof x === "string")) throw bad("must be a list of strings");
      if (def.field === "hosts") list.forEach(checkHost);
      return list;
    }
    case "int": {
      const n = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : raw;
      if (typeof n !== "number" || !Number.isInteger(n) || n < 1) throw bad("must be a positive integer");
      return n;
    }
    case "registry": {
      if (raw === null) return null;
      if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw bad('must be an object like {"addr": "127.0.0.1:5000", "root": "/path"}');
      const r = raw as Record<string, unknown>;
      const strs = ["addr", "root", "htpasswd", "tlsCert", "tlsKey"];
      const unknownKeys = Object.keys(r).filter((k) => !strs.includes(k) && k !== "readOnly" && k !== "delete");
      if (unknownKeys.length > 0) throw bad(`unknown keys ${unknownKeys.join(", ")}`);
      for (const k of strs) if (r[k] !== undefined && typeof r[k] !== "string") throw bad(`${k} must be a string`);
      for (const k of ["readOnly", "delete"]) if (r[k] !== undefined && typeof r[k] !== "boolean") throw bad(`${k} must be a boolean`);
      if (!r.root) throw bad("root is required");
      const out: EmbeddedRegistryConfig = { ...(r as Partial<EmbeddedRegistryConfig>), addr: (r.addr as string | undefined) ?? "127.0.0.1:5000", root: resolve(r.root as string) };
      return out;
    }
    case "pools": {
      if (!Array.isArray(raw) || !raw.every((p) => p && typeof p.base === "string" && typeof p.size === "number")) {
        throw bad('must be a list of {"base": "<cidr>", "size": <prefix length>}');
      }
      return raw;
    }
  }
}

function checkHost(h: string): void {
  if (!h.startsWith("unix://") || h.length <= "unix://".length) {
    throw invalidArgument(`invalid value for hosts: ${JSON.stringify(h)}: only unix:///path sockets are supported`);
  }
}

/** The filesystem path of a unix:// host. */
export function socketPathOf(host: string): string {
  return resolve(host.slice("unix://".length));
}

export function usage(): string {
  const typeName = (d: ConfigDef) => (d.kind === "string[]" ? "list" : d.kind === "int" ? "int" : "string");
  const rows: [string, string][] = [["    --config string", `Daemon configuration file (default "${DEFAULT_CONFIG_FILE}")`]];
  for (const d of CONFIG_DEFS) {
    if (!d.flag) continue;
    const def = (DEFAULTS as Record<string, unknown>)[d.field];
    const shown = Array.isArray(def) ? (def.length ? ` (default ${JSON.stringify(def)})` : "") : typeof def === "number" ? ` (default ${def})` : def ? ` (default "${String(def)}")` : "";
    rows.push([`${d.short ? d.short + ", " : "    "}${d.flag} ${typeName(d)}`, `${d.summary}${shown}`]);
  }
  const w = Math.max(...rows.map(([l]) => l.length)) + 1;
  const lines = ["Usage: berthd [OPTIONS]", "", "A container engine that speaks the Docker Engine API", "", "Options:"];
  for (const [l, r] of rows) lines.push(`  ${l.padEnd(w)} ${r}`);
  return lines.join("\n") + "\n";
}
