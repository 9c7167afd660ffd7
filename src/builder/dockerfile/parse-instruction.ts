import { parseGoDuration } from "./go-duration.js";
import { parseHeredocWord } from "./heredoc.js";
import { parseFlags, type FlagType, type FlagValues } from "./instruction-flags.js";
import { syntaxError } from "./parse-error.js";
import { parseMount } from "./run-mount.js";
import { parseJsonArray, parseNameValue, parseWords, splitCommand, WHITESPACE } from "./split-command.js";
import { suggest } from "./suggest.js";
import type {
  AddInstruction, CopyInstruction, EscapeChar, Heredoc, Instruction, InstructionKind, RunMount,
} from "./types.js";

/** One logical line, split but not yet typed. */
export interface RawNode {
  keyword: string;
  flags: string[];
  args: string;
  original: string;
  startLine: number;
  endLine: number;
  heredocs: Heredoc[];
}

export const INSTRUCTION_KINDS: readonly InstructionKind[] = [
  "FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "WORKDIR", "USER", "LABEL", "EXPOSE", "ENTRYPOINT", "CMD",
  "VOLUME", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "ONBUILD", "MAINTAINER",
];

const HEREDOC_KINDS = new Set(["RUN", "COPY", "ADD"]);

/** Whether heredoc bodies follow this line (RUN/COPY/ADD in shell form, also behind ONBUILD). */
export function canContainHeredoc(line: string): boolean {
  let { keyword, args } = splitCommand(line);
  if (keyword.toUpperCase() === "ONBUILD") ({ keyword, args } = splitCommand(args));
  if (!HEREDOC_KINDS.has(keyword.toUpperCase())) return false;
  try {
    return parseJsonArray(args) === undefined;
  } catch {
    return false;
  }
}

const MIN_DURATION_NS = 1e6;

/** Type one node. Errors are thrown without a line (the caller attaches it). */
export function parseInstruction(node: RawNode, escape: EscapeChar): Instruction {
  const kind = node.keyword.toUpperCase() as InstructionKind;
  if (!INSTRUCTION_KINDS.includes(kind)) {
    const hint = suggest(node.keyword, INSTRUCTION_KINDS);
    throw syntaxError(`unknown instruction: ${node.keyword}${hint ? ` (did you mean ${hint}?)` : ""}`);
  }
  const base = { original: node.original.trim(), startLine: node.startLine, endLine: node.endLine, flags: node.flags };
  const flags = (spec: Record<string, FlagType>): FlagValues => parseFlags(node.flags, spec);
  const args = node.args;

  switch (kind) {
    case "FROM": {
      const words = args === "" ? [] : args.split(WHITESPACE);
      const f = flags({ platform: "string" });
      let stageName: string | undefined;
      if (words.length === 3 && words[1]!.toLowerCase() === "as") {
        stageName = words[2]!.toLowerCase();
        if (!/^[a-z][a-z0-9-_.]*$/.test(stageName)) {
          throw syntaxError(`invalid name for build stage: ${JSON.stringify(words[2])}, name can't start with a number or contain symbols`);
        }
      } else if (words.length !== 1) throw syntaxError("FROM requires either one or three arguments");
      return {
        kind, ...base, image: words[0]!,
        ...(stageName !== undefined ? { stageName } : {}),
        ...(f.string.has("platform") ? { platform: f.string.get("platform")! } : {}),
      };
    }
    case "RUN": {
      const f = flags({ mount: "strings", network: "string", security: "string", device: "strings" });
      const exec = parseJsonArray(args);
      const mountSpecs = f.strings.get("mount") ?? [];
      const mounts = parseMounts(mountSpecs);
      const network = f.string.get("network");
      if (network !== undefined && !["default", "none", "host"].includes(network)) {
        throw syntaxError(`unsupported network mode ${JSON.stringify(network)}`);
      }
      const security = f.string.get("security");
      if (security !== undefined && !["sandbox", "insecure"].includes(security)) {
        throw syntaxError(`unsupported security mode ${JSON.stringify(security)}`);
      }
      return {
        kind, ...base, form: exec ? "exec" : "shell", command: exec ?? args, heredocs: node.heredocs, mounts, mountSpecs,
        ...(network !== undefined ? { network: network as "default" | "none" | "host" } : {}),
        ...(security !== undefined ? { security: security as "sandbox" | "insecure" } : {}),
        devices: f.strings.get("device") ?? [],
      };
    }
    case "CMD":
    case "ENTRYPOINT": {
      flags({});
      const exec = parseJsonArray(args);
      return { kind, ...base, form: exec ? "exec" : "shell", command: exec ?? args };
    }
    case "COPY":
    case "ADD": {
      const spec: Record<string, FlagType> = { chown: "string", chmod: "string", link: "bool", exclude: "strings" };
      if (kind === "COPY") Object.assign(spec, { from: "string", parents: "bool" });
      else Object.assign(spec, { "keep-git-dir": "bool", checksum: "string", unpack: "bool", parents: "bool" });
      const f = flags(spec);
      const json = parseJsonArray(args);
      const list = json ?? (args === "" ? [] : args.split(WHITESPACE));
      if (list.length < 2) {
        throw syntaxError(`${kind} requires at least two arguments, but only one was provided. Destination could not be determined`);
      }
      const dest = list[list.length - 1]!;
      if (parseHeredocWord(dest)) throw syntaxError(`${kind} cannot accept a heredoc as a destination`);
      const sources: string[] = [];
      const heredocs: Heredoc[] = [];
      for (const src of list.slice(0, -1)) {
        const h = json ? undefined : parseHeredocWord(src);
        if (!h) {
          sources.push(src);
          continue;
        }
        const body = node.heredocs.find((x) => x.name === h.name);
        heredocs.push({ ...h, content: body?.content ?? "" });
      }
      const common = {
        ...base, sources, dest, heredocs, link: f.bool.get("link") ?? false, exclude: f.strings.get("exclude") ?? [],
        parents: f.bool.get("parents") ?? false, json: json !== undefined,
        ...(f.string.has("chown") ? { chown: f.string.get("chown")! } : {}),
        ...(f.string.has("chmod") ? { chmod: f.string.get("chmod")! } : {}),
      };
      if (kind === "COPY") {
        const copy: CopyInstruction = { kind, ...common, ...(f.string.has("from") ? { from: f.string.get("from")! } : {}) };
        return copy;
      }
      const add: AddInstruction = {
        kind, ...common, keepGitDir: f.bool.get("keep-git-dir") ?? false,
        ...(f.string.has("checksum") ? { checksum: f.string.get("checksum")! } : {}),
        ...(f.bool.has("unpack") ? { unpack: f.bool.get("unpack")! } : {}),
      };
      return add;
    }
    case "ENV":
    case "LABEL": {
      flags({});
      const pairs = parseNameValue(args, kind, escape);
      if (pairs.length === 0) throw syntaxError(`${kind} requires at least one argument`);
      if (pairs.some(([k]) => k === "")) throw syntaxError(`${kind} names can not be blank`);
      return { kind, ...base, pairs };
    }
    case "ARG": {
      flags({});
      const words = parseWords(args, escape);
      if (words.length === 0) throw syntaxError("ARG requires at least one argument");
      return {
        kind, ...base,
        args: words.map((w) => {
          const eq = w.indexOf("=");
          if (eq === -1) return { name: w };
          if (eq === 0) throw syntaxError("ARG names can not be blank");
          return { name: w.slice(0, eq), default: w.slice(eq + 1) };
        }),
      };
    }
    case "WORKDIR":
    case "USER":
    case "STOPSIGNAL":
    case "MAINTAINER": {
      if (args === "") throw syntaxError(`${kind} requires exactly one argument`);
      flags({});
      if (kind === "WORKDIR") return { kind, ...base, path: args };
      if (kind === "USER") return { kind, ...base, user: args };
      if (kind === "STOPSIGNAL") return { kind, ...base, signal: args };
      return { kind, ...base, maintainer: args };
    }
    case "EXPOSE": {
      if (args === "") throw syntaxError("EXPOSE requires at least one argument");
      flags({});
      return { kind, ...base, ports: args.split(WHITESPACE).sort() };
    }
    case "VOLUME": {
      const list = parseJsonArray(args) ?? (args === "" ? [] : args.split(WHITESPACE));
      if (list.length === 0) throw syntaxError("VOLUME requires at least one argument");
      flags({});
      const volumes = list.map((v) => v.trim());
      if (volumes.some((v) => v === "")) throw syntaxError("VOLUME specified can not be an empty string");
      return { kind, ...base, volumes };
    }
    case "SHELL": {
      flags({});
      const json = parseJsonArray(args);
      if (json === undefined) {
        if (args === "") throw syntaxError("SHELL requires at least one argument");
        throw syntaxError("SHELL requires the arguments to be in JSON form");
      }
      if (json.length === 0) throw syntaxError("SHELL requires at least one argument");
      return { kind, ...base, shell: json };
    }
    case "HEALTHCHECK":
      return { kind, ...base, ...parseHealthcheck(args, node.flags) };
    case "ONBUILD": {
      if (args === "") throw syntaxError("ONBUILD requires at least one argument");
      flags({});
      const innerKeyword = splitCommand(args).keyword.toUpperCase();
      if (innerKeyword === "ONBUILD") throw syntaxError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (innerKeyword === "MAINTAINER" || innerKeyword === "FROM") {
        throw syntaxError(`${innerKeyword} isn't allowed as an ONBUILD trigger`);
      }
      const split = splitCommand(args);
      const inner = parseInstruction({ ...node, ...split, keyword: split.keyword, original: args }, escape);
      let expression = node.original.replace(/^\s*ONBUILD\s*/i, "");
      for (const h of node.heredocs) expression += "\n" + h.content + h.name;
      return { kind, ...base, inner, expression };
    }
  }
}

function parseMounts(specs: string[]): RunMount[] {
  let ssh = 0;
  return specs.map((s) => {
    const m = parseMount(s, undefined, ssh);
    if (m.type === "ssh") ssh++;
    return m;
  });
}

function parseHealthcheck(rest: string, flagWords: string[]) {
  const m = /^(\S+)\s*/.exec(rest);
  if (!m) throw syntaxError("HEALTHCHECK requires at least one argument");
  const type = m[1]!.toUpperCase();
  const cmdText = rest.slice(m[0].length);
  const exec = parseJsonArray(cmdText);
  if (type === "NONE") {
    if (cmdText !== "") throw syntaxError("HEALTHCHECK NONE takes no arguments");
    return { none: true, health: { test: ["NONE"], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 } };
  }
  const f = parseFlags(flagWords, {
    interval: "string", timeout: "string", "start-period": "string", "start-interval": "string", retries: "string",
  });
  if (type !== "CMD") throw syntaxError(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  const argv = exec ?? (cmdText === "" ? [] : [cmdText]);
  if (argv.length === 0) throw syntaxError("Missing command after HEALTHCHECK CMD");
  const duration = (name: string): number => {
    const v = f.string.get(name);
    if (v === undefined || v === "") return 0;
    const d = parseGoDuration(v);
    if (d === 0) return 0;
    if (d < MIN_DURATION_NS) throw syntaxError(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
    return d;
  };
  let retries = 0;
  const r = f.string.get("retries");
  if (r !== undefined && r !== "") {
    if (!/^[+-]?\d+$/.test(r)) throw syntaxError(`strconv.ParseInt: parsing ${JSON.stringify(r)}: invalid syntax`);
    retries = Number(r);
    if (retries < 0) throw syntaxError(`--retries cannot be negative (${retries})`);
  }
  return {
    none: false,
    health: {
      test: exec ? ["CMD", ...exec] : ["CMD-SHELL", cmdText],
      interval: duration("interval"), timeout: duration("timeout"), startPeriod: duration("start-period"),
      startInterval: duration("start-interval"), retries,
    },
  };
}
