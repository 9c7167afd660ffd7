import { posix } from "node:path";
import { EngineError } from "../errdefs/index.js";

/** One .dockerignore line after cleaning. */
export interface Pattern {
  /** Cleaned, slash-separated, relative to the context root (no leading `/`). */
  pattern: string;
  /** A `!` line: re-includes what earlier lines excluded. */
  exclusion: boolean;
}

/**
 * Parse .dockerignore text (moby/patternmatcher ignorefile rules): BOM stripped, `#` lines are
 * comments, surrounding whitespace trimmed, empty lines skipped, `!` marks an exception, each
 * pattern path-cleaned with any leading `/` dropped. A lone `!` is an error.
 */
export function parseDockerignore(text: string): Pattern[] {
  const out: Pattern[] = [];
  const lines = text.split(/\r?\n/);
  if (lines[0]?.startsWith("\uFEFF")) lines[0] = lines[0].slice(1);
  for (const line of lines) {
    if (line.startsWith("#")) continue;
    let p = line.trim();
    if (p === "") continue;
    const exclusion = p.startsWith("!");
    if (exclusion) {
      p = p.slice(1).trim();
      if (p === "") throw new EngineError("invalid-argument", 'illegal exclusion pattern: "!"');
    }
    p = cleanPath(p);
    if (p.length > 1 && p.startsWith("/")) p = p.slice(1);
    if (p === "." || p === "/") continue;
    validate(p);
    out.push({ pattern: p, exclusion });
  }
  return out;
}

/** Go filepath.Clean on a slash path. */
export function cleanPath(p: string): string {
  return posix.normalize(p).replace(/(.)\/+$/, "$1") || ".";
}

function validate(p: string): void {
  for (let i = 0; i < p.length; i++) {
    if (p[i] === "\\") i++;
    else if (p[i] === "[") {
      const end = classEnd(p, i);
      if (end === -1) throw new EngineError("invalid-argument", `syntax error in pattern: ${p}`);
      i = end;
    }
  }
}

function classEnd(p: string, start: number): number {
  let j = start + 1;
  if (p[j] === "^") j++;
  if (p[j] === "]") j++;
  for (; j < p.length; j++) {
    if (p[j] === "\\") j++;
    else if (p[j] === "]") return j;
  }
  return -1;
}

/** Pattern -> anchored RegExp: `*` and `?` stay within a segment, `**` spans segments. */
function compile(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") i++;
        re += i + 1 >= pattern.length ? ".*" : "(?:.*/)?";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "\\") re += i + 1 < pattern.length ? escapeRegExp(pattern[++i]!) : "\\\\";
    else if (c === "[") {
      const end = classEnd(pattern, i);
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith("^");
      if (negate) body = body.slice(1);
      let cls = "";
      for (let k = 0; k < body.length; k++) {
        let ch = body[k]!;
        if (ch === "\\" && k + 1 < body.length) ch = body[++k]!;
        cls += /[\\\]\[^]/.test(ch) ? "\\" + ch : ch;
      }
      re += `[${negate ? "^/" : ""}${cls}]`;
      i = end;
    } else re += escapeRegExp(c);
  }
  return new RegExp(`^${re}$`, "s");
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** One segment of a pattern, for "could anything inside this directory match?". */
function segmentRegExp(segment: string): RegExp {
  return compile(segment);
}

interface Compiled extends Pattern {
  re: RegExp;
  segments: string[];
}

/**
 * Docker's .dockerignore matching (patternmatcher MatchesOrParentMatches): patterns are anchored
 * at the context root, a pattern matching a parent directory matches everything below it, and
 * the last matching line decides (exceptions re-include).
 */
export class IgnoreMatcher {
  private readonly patterns: Compiled[];
  readonly hasExclusions: boolean;

  constructor(patterns: readonly Pattern[]) {
    this.patterns = patterns.map((p) => ({ ...p, re: compile(p.pattern), segments: p.pattern.split("/") }));
    this.hasExclusions = patterns.some((p) => p.exclusion);
  }

  static fromText(text: string): IgnoreMatcher {
    return new IgnoreMatcher(parseDockerignore(text));
  }

  /** Whether `relPath` (relative to the context root, `/`-separated) is excluded from the context. */
  matches(relPath: string): boolean {
    const file = normalizeRel(relPath);
    if (file === ".") return false;
    const parts = file.split("/");
    let matched = false;
    for (const p of this.patterns) {
      // An exception only matters once excluded, an exclusion only while not excluded.
      if (p.exclusion !== matched) continue;
      let hit = p.re.test(file);
      for (let i = 1; !hit && i < parts.length; i++) hit = p.re.test(parts.slice(0, i).join("/"));
      if (hit) matched = !p.exclusion;
    }
    return matched;
  }

  /**
   * True when the directory is excluded and no exception could re-include anything below it,
   * so a context walk need not descend into it.
   */
  canSkipDir(relDir: string): boolean {
    if (!this.matches(relDir)) return false;
    if (!this.hasExclusions) return true;
    const dir = normalizeRel(relDir).split("/");
    return !this.patterns.some((p) => p.exclusion && couldMatchInside(p.segments, dir));
  }
}

/** Whether some path strictly inside `dir` could match the pattern (over-approximates). */
function couldMatchInside(segments: string[], dir: string[]): boolean {
  for (let i = 0; i < dir.length; i++) {
    const seg = segments[i];
    // The pattern names `dir` or an ancestor: it matches (re-includes) everything below too.
    if (seg === undefined) return true;
    if (seg.includes("**")) return true;
    if (!segmentRegExp(seg).test(dir[i]!)) return false;
  }
  return true;
}

function normalizeRel(p: string): string {
  let s = cleanPath(p.replace(/\\/g, "/"));
  while (s.startsWith("/")) s = s.slice(1);
  if (s.startsWith("./")) s = s.slice(2);
  return s === "" ? "." : s;
}
