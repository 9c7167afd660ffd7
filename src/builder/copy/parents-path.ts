import { posix } from "node:path";
import { globToRegExp } from "../../images/glob-match.js";
import { cleanSource } from "./source-tree.js";

/**
 * A COPY --parents source: `pattern` selects tree paths (as without --parents), and every selected
 * path keeps its parent directories below `pivot` at the destination. The pivot is the part before a
 * `/./` in the source ("" when there is none: the whole path from the tree root is kept).
 */
export interface ParentsSource {
  pattern: string;
  pivot: string;
}

/** Split `./x/./y/*.txt` into pattern "x/y/*.txt" and pivot "x"; a leading "./" is not a pivot. */
export function parentsSource(src: string): ParentsSource {
  const body = src.replace(/^(\.\/|\/)+/, "");
  const i = body.indexOf("/./");
  if (i < 0) return { pattern: cleanSource(src), pivot: "" };
  const pivot = cleanSource(body.slice(0, i));
  return { pattern: cleanSource(`${body.slice(0, i)}/${body.slice(i + 3)}`), pivot };
}

/**
 * Where a selected path lands below the destination directory: its path relative to the pivot. The
 * pivot may hold wildcards (a "*" component), so its depth, not its text, says how much is dropped.
 */
export function parentsTarget(rel: string, pivot: string): string {
  if (pivot === "") return rel;
  const depth = pivot.split("/").length;
  return rel.split("/").slice(depth).join("/");
}

/** Go filepath.Match per path component, plus `**` for any number of directories (the --parents rules). */
export function parentsMatch(pattern: string, rel: string): boolean {
  if (!pattern.includes("**")) return globToRegExp(pattern).test(rel);
  const parts = pattern.split("/");
  const names = rel === "" ? [] : rel.split("/");
  const match = (pi: number, ni: number): boolean => {
    if (pi === parts.length) return ni === names.length;
    const p = parts[pi]!;
    if (p === "**") {
      for (let k = ni; k <= names.length; k++) if (match(pi + 1, k)) return true;
      return false;
    }
    return ni < names.length && globToRegExp(p).test(names[ni]!) && match(pi + 1, ni + 1);
  };
  return match(0, 0);
}

/** The destination of one selected source under `destDir` with --parents. */
export function parentsDestination(destDir: string, rel: string, pivot: string): string {
  const t = parentsTarget(rel, pivot);
  return t === "" ? destDir : posix.join(destDir, t);
}
