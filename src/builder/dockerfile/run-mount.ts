import { syntaxError } from "./parse-error.js";
import { suggest } from "./suggest.js";
import type { RunMount } from "./types.js";

const TYPES = ["bind", "cache", "tmpfs", "secret", "ssh"] as const;
type MountType = (typeof TYPES)[number];
const KEYS = ["type", "from", "source", "src", "target", "dst", "destination", "readonly", "ro", "readwrite", "rw",
  "required", "size", "id", "sharing", "mode", "uid", "gid", "env"];

/**
 * One `RUN --mount=` value (CSV of key=value fields) with BuildKit's defaults filled in.
 * `expand` substitutes each value; without it values are taken as written.
 * `sshIndex` numbers the default ssh agent socket path.
 */
export function parseMount(spec: string, expand: (word: string) => string = identity, sshIndex = 0): RunMount {
  const fields = splitCsv(spec);
  let type: MountType = "bind";
  for (const f of fields) {
    const [k, v] = cut(f);
    if (k.toLowerCase() === "type" && v !== undefined) {
      if (!(TYPES as readonly string[]).includes(v.toLowerCase())) throw syntaxError(`unsupported mount type "${v}"`);
      type = v.toLowerCase() as MountType;
    }
  }
  let from: string | undefined;
  let source: string | undefined;
  let target: string | undefined;
  let readonly: boolean | undefined;
  let required = false;
  let size: number | undefined;
  let id: string | undefined;
  let sharing: string | undefined;
  let mode: number | undefined;
  let uid: number | undefined;
  let gid: number | undefined;
  let env: string | undefined;

  const unexpected = (key: string) => syntaxError(`unexpected key '${key}' for mount type '${type}'`);
  for (const field of fields) {
    const [rawKey, rawValue] = cut(field);
    const key = rawKey.toLowerCase();
    if (rawValue === undefined) {
      if (key === "readonly" || key === "ro") readonly = true;
      else if (key === "readwrite" || key === "rw") readonly = false;
      else if (key === "required") {
        if (type !== "secret" && type !== "ssh") throw unexpected(key);
        required = true;
      } else throw syntaxError(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    if (key === "from" && /\$./.test(rawValue) && expand === identity) {
      throw syntaxError(`'${key}' doesn't support variable expansion, define alias stage instead`);
    }
    const value = expand(rawValue);
    switch (key) {
      case "type":
        break;
      case "from":
        from = value;
        break;
      case "source":
      case "src":
        source = value;
        break;
      case "target":
      case "dst":
      case "destination":
        target = value;
        break;
      case "readonly":
      case "ro":
        readonly = parseBool(key, value);
        break;
      case "readwrite":
      case "rw":
        readonly = !parseBool(key, value);
        break;
      case "required":
        if (type !== "secret" && type !== "ssh") throw unexpected(key);
        required = parseBool(key, value);
        break;
      case "size":
        if (type !== "tmpfs") throw unexpected(key);
        size = ramInBytes(value);
        break;
      case "id":
        id = value;
        break;
      case "sharing":
        if (type !== "cache") throw syntaxError(`invalid cache sharing set for ${type} mount`);
        if (!["shared", "private", "locked"].includes(value.toLowerCase())) throw syntaxError(`unsupported sharing value "${value}"`);
        sharing = value.toLowerCase();
        break;
      case "mode":
        if (!/^[0-7]+$/.test(value)) throw syntaxError(`invalid value ${value} for mode`);
        mode = parseInt(value, 8);
        break;
      case "uid":
        if (!/^\d+$/.test(value)) throw syntaxError(`invalid value ${value} for uid`);
        uid = Number(value);
        break;
      case "gid":
        if (!/^\d+$/.test(value)) throw syntaxError(`invalid value ${value} for gid`);
        gid = Number(value);
        break;
      case "env":
        if (type !== "secret") throw unexpected(key);
        env = value;
        break;
      default: {
        const hint = suggest(key, KEYS, true);
        throw syntaxError(`unexpected key '${key}' in '${field}'${hint ? ` (did you mean ${hint}?)` : ""}`);
      }
    }
  }

  switch (type) {
    case "bind":
      if (!target) throw syntaxError("mount target must be set");
      return { type, target, source: source ?? "/", ...(from !== undefined ? { from } : {}), readonly: readonly ?? true };
    case "cache":
      if (!target) throw syntaxError("mount target must be set");
      return {
        type, target, id: id || target, sharing: (sharing ?? "shared") as "shared" | "private" | "locked",
        readonly: readonly ?? false, ...(from !== undefined ? { from } : {}), ...(source !== undefined ? { source } : {}),
        mode: mode ?? 0o755, uid: uid ?? 0, gid: gid ?? 0,
      };
    case "tmpfs":
      if (!target) throw syntaxError("mount target must be set");
      return { type, target, ...(size !== undefined ? { size } : {}) };
    case "secret": {
      if (from !== undefined) throw syntaxError("secret mount should not have a from");
      if (!source && !target && !id && env === undefined) throw syntaxError("one of source, target, id or env should be defined");
      if (source && id) throw syntaxError("both source and id can't be set");
      const secretId = id || source || basename(target ?? "");
      const secretTarget = target ?? (env === undefined ? `/run/secrets/${secretId}` : undefined);
      return {
        type, id: secretId, ...(secretTarget !== undefined ? { target: secretTarget } : {}),
        ...(env !== undefined ? { env } : {}), required, mode: mode ?? 0o400, uid: uid ?? 0, gid: gid ?? 0,
      };
    }
    case "ssh":
      return {
        type, id: id || "default", target: target || `/run/buildkit/ssh_agent.${sshIndex}`, required,
        mode: mode ?? 0o600, uid: uid ?? 0, gid: gid ?? 0,
      };
  }
}

const identity = (w: string) => w;

function cut(field: string): [string, string | undefined] {
  const eq = field.indexOf("=");
  return eq === -1 ? [field, undefined] : [field.slice(0, eq), field.slice(eq + 1)];
}

function basename(p: string): string {
  const parts = p.split("/").filter(Boolean);
  return parts[parts.length - 1] ?? "";
}

function parseBool(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (["1", "t", "true"].includes(v)) return true;
  if (["0", "f", "false"].includes(v)) return false;
  throw syntaxError(`invalid value for ${key}: ${value}`);
}

/** Go encoding/csv for one record: commas separate, double quotes group, "" is a quote. */
export function splitCsv(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inQuotes = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          cur += '"';
          i++;
        } else inQuotes = false;
      } else cur += c;
    } else if (c === '"' && cur === "") inQuotes = true;
    else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (inQuotes) throw syntaxError(`extraneous or missing " in quoted-field`);
  out.push(cur);
  return out.filter((f) => f !== "");
}

/** docker/go-units RAMInBytes: "64m", "1g", "512k", "1024" (binary multiples). */
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s.trim());
  if (!m) throw syntaxError(`invalid size: '${s}'`);
  const mult = { k: 1, m: 2, g: 3, t: 4, p: 5 }[(m[2] ?? "").toLowerCase() as "k"] ?? 0;
  return Math.floor(Number(m[1]) * 1024 ** mult);
}
