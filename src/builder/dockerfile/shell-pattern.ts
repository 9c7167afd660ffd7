/**
 * Shell glob patterns as used in `${v#pat}`, `${v%pat}` and `${v/pat/rep}`:
 * `?` one char, `*` any run, `[...]` a class, `\x` a literal x.
 */
export function shellPatternToRegExp(pattern: string, opts: { anchored: boolean; greedy?: boolean }): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += opts.greedy === false ? "[\\s\\S]*?" : "[\\s\\S]*";
    else if (c === "?") re += "[\\s\\S]";
    else if (c === "\\") {
      if (i + 1 < pattern.length) re += escapeRegExp(pattern[++i]!);
      else re += "\\\\";
    } else if (c === "[") {
      const end = classEnd(pattern, i);
      if (end === -1) re += "\\[";
      else {
        let body = pattern.slice(i + 1, end);
        let negate = false;
        if (body.startsWith("!") || body.startsWith("^")) {
          negate = true;
          body = body.slice(1);
        }
        re += `[${negate ? "^" : ""}${classBody(body)}]`;
        i = end;
      }
    } else re += escapeRegExp(c);
  }
  return new RegExp(opts.anchored ? `^(?:${re})$` : re, opts.anchored ? "" : "g");
}

function classBody(body: string): string {
  let out = "";
  for (let k = 0; k < body.length; k++) {
    let ch = body[k]!;
    if (ch === "\\" && k + 1 < body.length) ch = body[++k]!;
    out += /[\\\]\[^]/.test(ch) ? "\\" + ch : ch;
  }
  return out;
}

function classEnd(pattern: string, start: number): number {
  let j = start + 1;
  if (pattern[j] === "!" || pattern[j] === "^") j++;
  if (pattern[j] === "]") j++;
  for (; j < pattern.length; j++) {
    if (pattern[j] === "\\") j++;
    else if (pattern[j] === "]") return j;
  }
  return -1;
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** `${v#pat}` (shortest) and `${v##pat}` (longest): remove a matching prefix. */
export function trimPrefix(pattern: string, value: string, longest: boolean): string {
  const re = shellPatternToRegExp(pattern, { anchored: true });
  if (longest) {
    for (let j = value.length; j >= 0; j--) if (re.test(value.slice(0, j))) return value.slice(j);
  } else {
    for (let j = 0; j <= value.length; j++) if (re.test(value.slice(0, j))) return value.slice(j);
  }
  return value;
}

/** `${v%pat}` (shortest) and `${v%%pat}` (longest): remove a matching suffix. */
export function trimSuffix(pattern: string, value: string, longest: boolean): string {
  const re = shellPatternToRegExp(pattern, { anchored: true });
  if (longest) {
    for (let i = 0; i <= value.length; i++) if (re.test(value.slice(i))) return value.slice(0, i);
  } else {
    for (let i = value.length; i >= 0; i--) if (re.test(value.slice(i))) return value.slice(0, i);
  }
  return value;
}

/** `${v/pat/rep}` and `${v//pat/rep}`: replace the first (or every) longest match. */
export function replacePattern(pattern: string, value: string, replacement: string, all: boolean): string {
  if (pattern === "") return value;
  const re = shellPatternToRegExp(pattern, { anchored: false });
  if (all) return value.replace(re, () => replacement);
  re.lastIndex = 0;
  const m = re.exec(value);
  if (!m || m[0] === "" ) return value;
  return value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length);
}
