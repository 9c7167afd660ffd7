import { syntaxError } from "./parse-error.js";
import { suggest } from "./suggest.js";

export type FlagType = "bool" | "string" | "strings";

export interface FlagValues {
  bool: Map<string, boolean>;
  string: Map<string, string>;
  strings: Map<string, string[]>;
  used: Set<string>;
}

/** Parse `--name[=value]` words against the flags an instruction accepts (BuildKit's BFlags rules). */
export function parseFlags(words: string[], spec: Record<string, FlagType>): FlagValues {
  const out: FlagValues = { bool: new Map(), string: new Map(), strings: new Map(), used: new Set() };
  for (const word of words) {
    if (!word.startsWith("--")) throw syntaxError(`arg should start with -- : ${word}`);
    if (word === "--") break;
    const body = word.slice(2);
    const eq = body.indexOf("=");
    const name = eq === -1 ? body : body.slice(0, eq);
    const hasValue = eq !== -1;
    const value = hasValue ? body.slice(eq + 1) : "";
    const type = Object.prototype.hasOwnProperty.call(spec, name) ? spec[name] : undefined;
    if (!type) {
      const hint = suggest(name, Object.keys(spec), true);
      throw syntaxError(`unknown flag: ${name}${hint ? ` (did you mean ${hint}?)` : ""}`);
    }
    if (out.used.has(name) && type !== "strings") throw syntaxError(`duplicate flag specified: ${name}`);
    out.used.add(name);
    if (type === "bool") {
      if (hasValue && value === "") throw syntaxError(`missing a value on flag: ${name}`);
      const v = value.toLowerCase();
      if (v === "true" || v === "") out.bool.set(name, true);
      else if (v === "false") out.bool.set(name, false);
      else throw syntaxError(`expecting boolean value for flag ${name}, not: ${value}`);
    } else {
      if (!hasValue) throw syntaxError(`missing a value on flag: ${name}`);
      if (type === "string") out.string.set(name, value);
      else out.strings.set(name, [...(out.strings.get(name) ?? []), value]);
    }
  }
  return out;
}
