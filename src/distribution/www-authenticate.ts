export interface Challenge { scheme: string; params: Record<string, string> }

/** Parse WWW-Authenticate: `Bearer realm="x",service="y",scope="a b"` (several challenges allowed). */
export function parseWwwAuthenticate(header: string | string[] | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  for (const h of Array.isArray(header) ? header : [header]) {
    const re = /\s*([A-Za-z][A-Za-z0-9_-]*)(?:\s+|$)|\s*,?\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/y;
    let cur: Challenge | null = null;
    let pos = 0;
    while (pos < h.length) {
      re.lastIndex = pos;
      const m = re.exec(h);
      if (!m || m[0].length === 0) break;
      pos = re.lastIndex;
      if (m[1] !== undefined && !/=/.test(h.slice(pos, pos + 1))) {
        cur = { scheme: m[1].toLowerCase(), params: {} };
        out.push(cur);
      } else if (m[2] !== undefined && cur) {
        cur.params[m[2].toLowerCase()] = m[3] !== undefined ? m[3].replace(/\\(.)/g, "$1") : (m[4] ?? "");
      }
      while (h[pos] === "," || h[pos] === " ") pos++;
    }
  }
  return out;
}
