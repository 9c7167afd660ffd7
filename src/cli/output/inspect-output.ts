import { compileChecked, executeChecked } from "./list-format.js";

/** Go's json.MarshalIndent(v, "", "    "): HTML-safe escapes included. */
export function goJsonIndent(v: unknown): string {
  return JSON.stringify(v, null, 4)
    .replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** docker inspect's output: a JSON array, or one template line per element. */
export function renderInspect(items: unknown[], format: string): string {
  if (!format) return goJsonIndent(items) + "\n";
  const t = compileChecked(format.replaceAll("\\t", "\t").replaceAll("\\n", "\n"));
  return items.map((i) => executeChecked(t, i) + "\n").join("");
}
