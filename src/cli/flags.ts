/** pflag-like flag definitions and parsing, the way the docker CLI reads its command lines. */

export type FlagKind = "bool" | "string" | "strings" | "int" | "float";

export interface FlagDef {
  kind: FlagKind;
  short?: string;
  description: string;
  default?: string | number | boolean;
  /** Type name shown in help ("string", "list", "int", "bytes", "duration", ...). */
  valueName?: string;
  hidden?: boolean;
}

export type FlagDefs = Record<string, FlagDef>;

export const bool = (short: string, description: string, extra: Partial<FlagDef> = {}): FlagDef =>
  ({ kind: "bool", short: short || undefined, description, ...extra });
export const string = (short: string, description: string, extra: Partial<FlagDef> = {}): FlagDef =>
  ({ kind: "string", short: short || undefined, description, ...extra });
export const strings = (short: string, description: string, extra: Partial<FlagDef> = {}): FlagDef =>
  ({ kind: "strings", short: short || undefined, description, valueName: "list", ...extra });
export const int = (short: string, description: string, extra: Partial<FlagDef> = {}): FlagDef =>
  ({ kind: "int", short: short || undefined, description, ...extra });
export const float = (short: string, description: string, extra: Partial<FlagDef> = {}): FlagDef =>
  ({ kind: "float", short: short || undefined, description, ...extra });

/** A command-line error: printed with the command's usage, exit 125 like docker's flag errors. */
export class FlagError extends Error {}

export class Flags {
  constructor(private readonly defs: FlagDefs, private readonly values: Map<string, unknown>) {}

  private get(name: string): unknown {
    if (!(name in this.defs)) throw new Error(`flag accessed but not defined: ${name}`);
    return this.values.has(name) ? this.values.get(name) : this.defs[name]!.default;
  }
  bool(name: string): boolean { return Boolean(this.get(name)); }
  string(name: string): string { const v = this.get(name); return v === undefined ? "" : String(v); }
  strings(name: string): string[] { return (this.values.get(name) as string[] | undefined) ?? []; }
  int(name: string): number { const v = this.get(name); return typeof v === "number" ? v : 0; }
  float(name: string): number { return this.int(name); }
  /** Whether the user gave the flag at all (pflag's Changed). */
  changed(name: string): boolean { return this.values.has(name); }
}

export interface Parsed {
  flags: Flags;
  args: string[];
  help: boolean;
}

function parseValue(def: FlagDef, name: string, raw: string): unknown {
  const label = def.short ? `-${def.short}, --${name}` : `--${name}`;
  switch (def.kind) {
    case "bool": {
      if (["1", "t", "T", "true", "TRUE", "True"].includes(raw)) return true;
      if (["0", "f", "F", "false", "FALSE", "False"].includes(raw)) return false;
      throw new FlagError(`invalid argument "${raw}" for "${label}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`);
    }
    case "int": {
      if (!/^[-+]?\d+$/.test(raw.trim())) throw new FlagError(`invalid argument "${raw}" for "${label}" flag: strconv.ParseInt: parsing "${raw}": invalid syntax`);
      return Number.parseInt(raw, 10);
    }
    case "float": {
      const n = Number(raw);
      if (raw.trim() === "" || Number.isNaN(n)) throw new FlagError(`invalid argument "${raw}" for "${label}" flag: strconv.ParseFloat: parsing "${raw}": invalid syntax`);
      return n;
    }
    default:
      return raw;
  }
}

/**
 * Parses argv against the definitions. With interspersed=false (run, create, exec) the first
 * positional argument ends flag parsing: everything after the image is the container's command.
 */
export function parseFlags(argv: string[], defs: FlagDefs, opts: { interspersed?: boolean } = {}): Parsed {
  const interspersed = opts.interspersed ?? true;
  const values = new Map<string, unknown>();
  const args: string[] = [];
  let help = false;
  const byShort = new Map<string, string>();
  for (const [name, def] of Object.entries(defs)) if (def.short) byShort.set(def.short, name);
  const helpShort = byShort.has("h") ? undefined : "h";

  const set = (name: string, raw: string) => {
    const def = defs[name]!;
    const v = parseValue(def, name, raw);
    if (def.kind === "strings") values.set(name, [...((values.get(name) as string[] | undefined) ?? []), raw]);
    else values.set(name, v);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") { args.push(...argv.slice(i + 1)); break; }
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const def = defs[name];
      if (!def) {
        if (name === "help") { help = true; continue; }
        throw new FlagError(`unknown flag: --${name}`);
      }
      if (eq >= 0) set(name, arg.slice(eq + 1));
      else if (def.kind === "bool") set(name, "true");
      else if (i + 1 < argv.length) set(name, argv[++i]!);
      else throw new FlagError(`flag needs an argument: --${name}`);
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      let rest = arg.slice(1);
      while (rest.length) {
        const c = rest[0]!;
        rest = rest.slice(1);
        const name = byShort.get(c);
        if (!name) {
          if (c === helpShort) { help = true; continue; }
          throw new FlagError(`unknown shorthand flag: '${c}' in ${arg}`);
        }
        const def = defs[name]!;
        if (def.kind === "bool") {
          if (rest.startsWith("=")) { set(name, rest.slice(1)); rest = ""; }
          else set(name, "true");
          continue;
        }
        if (rest.length) { set(name, rest.startsWith("=") ? rest.slice(1) : rest); rest = ""; }
        else if (i + 1 < argv.length) set(name, argv[++i]!);
        else throw new FlagError(`flag needs an argument: '${c}' in -${c}`);
      }
      continue;
    }
    args.push(arg);
    if (!interspersed) { args.push(...argv.slice(i + 1)); break; }
  }
  return { flags: new Flags(defs, values), args, help };
}

/** pflag's FlagUsages layout: "  -f, --force   description" with aligned descriptions. */
export function flagUsages(defs: FlagDefs): string {
  const rows: [string, string][] = [];
  for (const name of Object.keys(defs).sort()) {
    const def = defs[name]!;
    if (def.hidden) continue;
    let left = def.short ? `  -${def.short}, --${name}` : `      --${name}`;
    const typeName = def.valueName ?? (def.kind === "bool" ? "" : def.kind);
    if (typeName) left += ` ${typeName}`;
    let desc = def.description;
    if (def.default !== undefined && def.default !== false && def.default !== "") {
      desc += def.kind === "string" ? ` (default "${def.default}")` : ` (default ${def.default})`;
    }
    rows.push([left, desc]);
  }
  const width = Math.max(0, ...rows.map(([l]) => l.length));
  return rows.map(([l, d]) => `${l.padEnd(width)}   ${d}`).join("\n");
}
