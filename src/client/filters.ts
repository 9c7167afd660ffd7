import { invalidArgument } from "../errdefs/index.js";

/** Builds the filters query value the way the docker CLI does: {"key":{"value":true}}. */
export function encodeFilters(filters: Record<string, string[]> | undefined): string | undefined {
  if (!filters) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  for (const [key, values] of Object.entries(filters)) {
    if (!values.length) continue;
    out[key] = Object.fromEntries(values.map((v) => [v, true]));
  }
  return Object.keys(out).length ? JSON.stringify(out) : undefined;
}

/** "key=value" arguments of --filter into a filters map. */
export function parseFilterArgs(args: string[]): Record<string, string[]> {
  const filters: Record<string, string[]> = {};
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw invalidArgument("bad format of filter (expected name=value)");
    const key = arg.slice(0, eq).trim().toLowerCase();
    (filters[key] ??= []).push(arg.slice(eq + 1));
  }
  return filters;
}
