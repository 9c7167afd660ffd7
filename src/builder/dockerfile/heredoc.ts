import { expandWords } from "./shell-lexer.js";
import type { Heredoc } from "./types.js";

const HEREDOC_WORD = /^(\d*)<<(-?)([^<]*)$/;

/** The heredoc a single word introduces (`<<EOF`, `<<-"EOF"`, `3<<EOF`), or undefined. */
export function parseHeredocWord(word: string): Omit<Heredoc, "content"> | undefined {
  const m = HEREDOC_WORD.exec(word);
  if (!m || m[3] === "") return undefined;
  const rest = m[3]!;
  let words: string[];
  let raw: string[];
  try {
    words = expandWords(rest, {}, { skipUnset: true });
    raw = expandWords(rest, {}, { skipUnset: true, rawQuotes: true });
  } catch {
    return undefined;
  }
  if (words.length !== 1 || raw.length !== 1) return undefined;
  const name = words[0]!;
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  return { name, chomp: m[2] === "-", expand: quotes(name) === quotes(raw[0]!), fd: m[1] ? Number(m[1]) : 0 };
}

/** Every heredoc introduced on an instruction line, in order (quoted `"<<EOF"` words are not heredocs). */
export function heredocsFromLine(line: string): Omit<Heredoc, "content">[] {
  let words: string[];
  try {
    words = expandWords(line, {}, { rawQuotes: true, rawEscapes: true, skipUnset: true });
  } catch {
    return [];
  }
  const out: Omit<Heredoc, "content">[] = [];
  for (const w of words) {
    const h = parseHeredocWord(w);
    if (h) out.push(h);
  }
  return out;
}

/** The body as used: with `<<-`, leading tabs removed from every line. */
export function heredocData(h: Heredoc): string {
  return h.chomp ? h.content.replace(/^\t+/gm, "") : h.content;
}
