/** Go's path.Match: '*' and '?' never match '/', '[...]' classes with '^' negation, '\\' escapes. */
export function globMatch(pattern: string, name: string): boolean {
  return globToRegExp(pattern).test(name);
}

export function globToRegExp(pattern: string): RegExp {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\" && i + 1 < pattern.length) re += escape(pattern[++i]!);
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end === -1) return /$^/;
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith("^");
      if (negate) body = body.slice(1);
      re += `[${negate ? "^/" : ""}${body.replace(/[\]\\]/g, "\\$&")}]`;
      i = end;
    } else re += escape(c);
  }
  return new RegExp(re + "$");
}

function escape(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
