import { invalidArgument } from "../errdefs/index.js";
import type { Filters } from "../spec/engine.js";

/** Typed access to a request's query string, with dockerd's parsing rules. */
export class Query {
  constructor(readonly params: URLSearchParams) {}

  static parse(search: string): Query {
    return new Query(new URLSearchParams(search));
  }

  has(name: string): boolean {
    return this.params.has(name);
  }

  get(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }

  all(name: string): string[] {
    return this.params.getAll(name);
  }

  /** dockerd's BoolValue: absent, "", "0", "no", "false" and "none" are false; anything else is true. */
  bool(name: string): boolean {
    const v = (this.params.get(name) ?? "").trim().toLowerCase();
    return !(v === "" || v === "0" || v === "no" || v === "false" || v === "none");
  }

  /** Like bool, but undefined when absent. */
  optBool(name: string): boolean | undefined {
    return this.params.has(name) ? this.bool(name) : undefined;
  }

  int(name: string): number | undefined {
    const v = this.params.get(name);
    if (v === null || v.trim() === "") return undefined;
    if (!/^[+-]?[0-9]+$/.test(v.trim())) throw invalidArgument(`invalid value for ${name}: ${JSON.stringify(v)}: not an integer`);
    return Number.parseInt(v, 10);
  }

  number(name: string): number | undefined {
    const v = this.params.get(name);
    if (v === null || v.trim() === "") return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw invalidArgument(`invalid value for ${name}: ${JSON.stringify(v)}: not a number`);
    return n;
  }

  filters(name = "filters"): Filters {
    return parseFilters(this.params.get(name) ?? "");
  }
}

/** Parse the filters parameter in both the current {"k":["v"]} and the legacy {"k":{"v":true}} shapes. */
export function parseFilters(raw: string): Filters {
  if (raw.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw invalidArgument(`invalid filter: ${(err as Error).message}`);
  }
  if (value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalidArgument("invalid filter: filters must be a JSON object");
  const out: Filters = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) {
      out[key] = v as string[];
    } else if (v && typeof v === "object" && !Array.isArray(v)) {
      out[key] = Object.entries(v as Record<string, unknown>).filter(([, on]) => on === true).map(([k]) => k);
    } else {
      throw invalidArgument(`invalid filter: value of "${key}" must be a list of strings`);
    }
  }
  return out;
}
