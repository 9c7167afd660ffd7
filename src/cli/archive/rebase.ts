/** Replaces the first path component `from` with `to` (docker's archive.RebaseArchiveEntries); "" drops it. */
export function rebaseName(name: string, from: string, to: string): string | null {
  const clean = name.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");
  if (clean === from) return to;
  if (clean.startsWith(`${from}/`)) {
    const rest = clean.slice(from.length + 1);
    return to ? `${to}/${rest}` : rest;
  }
  return null;
}
