/**
 * `--change` lines for import and commit: a Dockerfile subset applied to an image config
 * (CMD, ENTRYPOINT, ENV, WORKDIR, EXPOSE, LABEL, USER, VOLUME, STOPSIGNAL, ONBUILD).
 */
import { posix } from "node:path";
import { invalidArgument } from "../errdefs/index.js";
import type { ContainerConfig } from "../spec/engine.js";

const DEFAULT_SHELL = ["/bin/sh", "-c"];

export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const cfg: ContainerConfig = structuredClone(base);
  let cmdSet = false;
  for (const raw of changes) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(line)!;
    const instr = m[1]!.toUpperCase();
    const rest = (m[2] ?? "").trim();
    switch (instr) {
      case "CMD":
        cfg.Cmd = commandForm(rest, cfg.Shell);
        cmdSet = true;
        break;
      case "ENTRYPOINT":
        cfg.Entrypoint = rest === "" ? null : commandForm(rest, cfg.Shell);
        if (!cmdSet) cfg.Cmd = null;
        break;
      case "ENV":
        for (const [k, v] of keyValues(instr, rest)) {
          const env = (cfg.Env ?? []).filter((e) => e.split("=", 1)[0] !== k);
          env.push(`${k}=${v}`);
          cfg.Env = env;
        }
        break;
      case "LABEL":
        for (const [k, v] of keyValues(instr, rest)) cfg.Labels = { ...(cfg.Labels ?? {}), [k]: v };
        break;
      case "WORKDIR": {
        const dir = words(rest).join(" ");
        if (dir === "") throw invalidArgument("WORKDIR requires exactly one argument");
        cfg.WorkingDir = posix.resolve("/", cfg.WorkingDir || "/", dir);
        break;
      }
      case "USER":
        if (rest === "") throw invalidArgument("USER requires exactly one argument");
        cfg.User = rest;
        break;
      case "STOPSIGNAL":
        if (rest === "") throw invalidArgument("STOPSIGNAL requires exactly one argument");
        cfg.StopSignal = rest;
        break;
      case "EXPOSE":
        for (const p of words(rest)) for (const key of portKeys(p)) cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}), [key]: {} };
        break;
      case "VOLUME": {
        const vols = jsonArray(rest) ?? words(rest);
        if (vols.length === 0) throw invalidArgument("VOLUME requires at least one argument");
        for (const v of vols) {
          if (v.trim() === "") throw invalidArgument("VOLUME specified can not be an empty string");
          cfg.Volumes = { ...(cfg.Volumes ?? {}), [v]: {} };
        }
        break;
      }
      case "ONBUILD":
        if (rest === "") throw invalidArgument("ONBUILD requires at least one argument");
        cfg.OnBuild = [...(cfg.OnBuild ?? []), rest];
        break;
      default:
        throw invalidArgument(`${m[1]} is not a valid change command`);
    }
  }
  return cfg;
}

/** JSON (exec) form when the text is a JSON string array, else shell form. */
function commandForm(rest: string, shell: string[] | null | undefined): string[] {
  const json = jsonArray(rest);
  if (json) return json;
  return [...(shell && shell.length > 0 ? shell : DEFAULT_SHELL), rest];
}

function jsonArray(s: string): string[] | null {
  if (!s.startsWith("[")) return null;
  try {
    const v: unknown = JSON.parse(s);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  } catch { /* shell form */ }
  return null;
}

/** "k=v k2='v 2'" or the legacy "k v with spaces". */
function keyValues(instr: string, rest: string): [string, string][] {
  const parts = words(rest);
  if (parts.length === 0) throw invalidArgument(`${instr} requires at least one argument`);
  if (!parts[0]!.includes("=")) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(rest);
    if (!m) throw invalidArgument(`${instr} must have two arguments`);
    return [[m[1]!, unquote(m[2]!.trim())]];
  }
  return parts.map((p) => {
    const i = p.indexOf("=");
    if (i <= 0) throw invalidArgument(`Syntax error - can't find = in "${p}". Must be of the form: name=value`);
    return [p.slice(0, i), p.slice(i + 1)];
  });
}

/** Split on unquoted whitespace, removing quotes and backslash escapes. */
function words(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw invalidArgument(`unexpected end of statement while looking for matching ${quote}`);
  if (inWord) out.push(cur);
  return out;
}

function unquote(s: string): string {
  const w = words(s);
  return w.length === 1 && /^["']/.test(s) ? w[0]! : s;
}

function portKeys(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw invalidArgument(`invalid containerPort: ${spec}`);
  const start = Number(m[1]);
  const end = m[2] !== undefined ? Number(m[2]) : start;
  if (start < 1 || end > 65535 || end < start) throw invalidArgument(`invalid range specified for container port: ${spec}`);
  const proto = (m[3] ?? "tcp").toLowerCase();
  const keys: string[] = [];
  for (let p = start; p <= end; p++) keys.push(`${p}/${proto}`);
  return keys;
}
