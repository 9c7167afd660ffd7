import { invalidArgument } from "../../errdefs/index.js";

/**
 * Normalise a tar entry name (or hard link target) to a relative path with no "." or ".." parts ("" is the root).
 * Absolute names are made relative; a ".." that climbs above the root is a breakout (invalid-argument).
 */
export function cleanEntryName(name: string, what = "path"): string {
  const parts: string[] = [];
  const absolute = name.startsWith("/");
  for (const c of name.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (parts.length === 0) {
        if (absolute) continue;
        throw invalidArgument(`invalid tar ${what} ${JSON.stringify(name)}: it is outside of the extraction root`);
      }
      parts.pop();
      continue;
    }
    parts.push(c);
  }
  return parts.join("/");
}

export function splitRel(rel: string): { dir: string; base: string } {
  const i = rel.lastIndexOf("/");
  return i < 0 ? { dir: "", base: rel } : { dir: rel.slice(0, i), base: rel.slice(i + 1) };
}
