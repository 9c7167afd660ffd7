/** Docker's image filters (list and prune): validation, labels, reference globs, timestamps. */
import { invalidArgument } from "../errdefs/index.js";
import type { Filters } from "../spec/engine.js";
import { familiarName, familiarString, type ImageReference } from "../spec/reference.js";
import { globMatch } from "./glob-match.js";

export function checkFilterKeys(filters: Filters | undefined, allowed: readonly string[]): Filters {
  const f = filters ?? {};
  for (const k of Object.keys(f)) if (!allowed.includes(k)) throw invalidArgument(`invalid filter '${k}'`);
  return f;
}

/** dangling=true|false (also 1/0); undefined when absent. */
export function boolFilter(f: Filters, key: string): boolean | undefined {
  const vals = f[key];
  if (!vals || vals.length === 0) return undefined;
  const v = vals[0]!.toLowerCase();
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw invalidArgument(`invalid filter '${key}=${vals[0]}'`);
}

/** Every "k" / "k=v" must match (label), none may (label!). */
export function labelsMatch(labels: Record<string, string>, wanted: string[] | undefined, negated = false): boolean {
  if (!wanted || wanted.length === 0) return true;
  const one = (w: string): boolean => {
    const i = w.indexOf("=");
    return i === -1 ? w in labels : labels[w.slice(0, i)] === w.slice(i + 1);
  };
  return negated ? !wanted.some(one) : wanted.every(one);
}

/** Docker's FamiliarMatch: the pattern against "name:tag", then against the bare name. */
export function referenceMatches(pattern: string, ref: ImageReference): boolean {
  return globMatch(pattern, familiarString(ref)) || globMatch(pattern, familiarName(ref));
}

const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Docker's GetTimestamp: a Go duration (relative to now), unix seconds, or an RFC 3339 / date string. Returns ms. */
export function parseTimestamp(value: string, now = Date.now()): number {
  if (DURATION_RE.test(value)) {
    let ms = 0;
    for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    return now - ms;
  }
  if (/^\d+(?:\.\d+)?$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw invalidArgument(`failed to parse value as time or duration: "${value}"`);
  return t;
}
