import { syntaxError } from "./parse-error.js";

/** Whitespace as Docker's parser splits on it (newlines never occur inside a logical line). */
export const WHITESPACE = /[\t\v\f\r ]+/;

/** Split a logical line into keyword, leading `--flags` and the rest (trimmed). */
export function splitCommand(line: string): { keyword: string; flags: string[]; args: string } {
  const trimmed = line.trim();
  const m = /[\t\v\f\r ]+/.exec(trimmed);
  if (!m) return { keyword: trimmed, flags: [], args: "" };
  const keyword = trimmed.slice(0, m.index);
  const { rest, flags } = extractFlags(trimmed.slice(m.index + m[0].length));
  return { keyword, flags, args: rest.trim() };
}

/** Leading words that start with `--` (quotes and `\` handled as the classic parser does). */
export function extractFlags(line: string): { rest: string; flags: string[] } {
  const flags: string[] = [];
  let word = "";
  let phase: "spaces" | "word" | "quote" = "spaces";
  let quote = "";
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const ch = pos < line.length ? line[pos]! : "";
    if (phase === "spaces") {
      if (pos === line.length) break;
      if (/\s/.test(ch)) continue;
      if (ch !== "-" || line[pos + 1] !== "-") return { rest: line.slice(pos), flags };
      phase = "word";
    }
    if (pos === line.length) {
      if (word !== "--" && (blankOK || word.length > 0)) flags.push(word);
      break;
    }
    if (phase === "word") {
      if (/\s/.test(ch)) {
        phase = "spaces";
        if (word === "--") return { rest: line.slice(pos), flags };
        if (blankOK || word.length > 0) flags.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = "quote";
        continue;
      }
      let c = ch;
      if (c === "\\") {
        if (pos + 1 === line.length) continue;
        c = line[++pos]!;
      }
      word += c;
      continue;
    }
    if (ch === quote) {
      phase = "word";
      continue;
    }
    let c = ch;
    if (c === "\\") {
      if (pos + 1 === line.length) {
        phase = "word";
        continue;
      }
      c = line[++pos]!;
    }
    word += c;
  }
  return { rest: "", flags };
}

/**
 * Space-separated words with quotes and escapes kept in the word (they are removed later, at
 * substitution). Used for ENV, LABEL and ARG.
 */
export function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  let phase: "spaces" | "word" | "quote" = "spaces";
  let quote = "";
  let blankOK = false;
  let word = "";
  const chars = [...rest];
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = pos < chars.length ? chars[pos]! : "";
    if (phase === "spaces") {
      if (pos === chars.length) break;
      if (/\s/.test(ch)) continue;
      phase = "word";
    }
    if (pos === chars.length) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === "word") {
      if (/\s/.test(ch)) {
        phase = "spaces";
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = "quote";
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue;
        word += ch;
        ch = chars[++pos]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = "word";
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = "word";
        continue;
      }
      word += ch;
      ch = chars[++pos]!;
    }
    word += ch;
  }
  return words;
}

/**
 * `KEY=value ...` pairs, or the legacy `KEY value` form (one pair, the value is the rest of the
 * line). Values keep their quotes for substitution to remove.
 */
export function parseNameValue(rest: string, keyword: string, escape: string): [string, string][] {
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0]!.includes("=")) {
    const m = WHITESPACE.exec(rest);
    if (!m) throw syntaxError(`${keyword} must have two arguments`);
    return [[rest.slice(0, m.index), rest.slice(m.index + m[0].length)]];
  }
  return words.map((w) => {
    const eq = w.indexOf("=");
    if (eq === -1) throw syntaxError(`Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`);
    return [w.slice(0, eq), w.slice(eq + 1)] as [string, string];
  });
}

export class NotStringArrayError extends Error {}

/**
 * The exec form: a JSON array of strings. undefined when the text is not a JSON array (shell
 * form then applies); an error when it is an array with non-string elements.
 */
export function parseJsonArray(rest: string): string[] | undefined {
  const t = rest.trimStart();
  if (!t.startsWith("[")) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  if (!parsed.every((x) => typeof x === "string")) {
    throw syntaxError("when using JSON array syntax, arrays must be comprised of strings only");
  }
  return parsed as string[];
}
