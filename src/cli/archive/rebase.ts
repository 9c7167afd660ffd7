/** Replaces the first path component `from` with `to` (docker's archive.RebaseArchiveEntries); "" drops it. */
export function rebaseName(name: string, from: string, to: string): string | null {
  const clean = name.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");
  // "dir/." archives are rooted at "./": every entry belongs to the copied tree
  if (from === "." || from === "") return clean === "" || clean === "." ? to : to ? `${to}/${clean}` : clean;
  if (clean === from) return to;
  if (clean.startsWith(`${from}/`)) {
    const rest = clean.slice(from.length + 1);
    return to ? `${to}/${rest}` : rest;
  }
  return null;
}
