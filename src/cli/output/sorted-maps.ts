/** Returns obj with the keys of the named map fields sorted, as Go's encoding/json writes a map (docker re-marshals what it inspects). */
export function sortMapFields<T>(obj: T, paths: string[][]): T {
  const copy = structuredClone(obj) as Record<string, unknown>;
  for (const path of paths) {
    let parent: Record<string, unknown> | undefined = copy;
    for (const key of path.slice(0, -1)) parent = parent?.[key] as Record<string, unknown> | undefined;
    const last = path[path.length - 1]!;
    const map = parent?.[last];
    if (map && typeof map === "object" && !Array.isArray(map)) {
      parent![last] = Object.fromEntries(Object.entries(map as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
  }
  return copy as T;
}
