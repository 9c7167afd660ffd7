import { syntaxError } from "./parse-error.js";
import { replacePattern, trimPrefix, trimSuffix } from "./shell-pattern.js";

/**
 * Docker's builder-side word processing (BuildKit's shell lexer): quote removal, escapes and
 * `$var` / `${var...}` substitution. It is not a shell: no command substitution, no globbing.
 */
export interface ExpandOptions {
  /** The escape character (`\` or a backtick with `# escape=\``). */
  escape?: string;
  /** Called once per reference to a variable that is not set. */
  onUnset?: (name: string) => void;
  /** Called once per reference to a variable that is set. */
  onUse?: (name: string) => void;
  /** Keep quotes in the output (used to find heredoc words). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output. */
  rawEscapes?: boolean;
  /** Leave references to unset variables as written. */
  skipUnset?: boolean;
}

export interface ExpandResult {
  value: string;
  /** Words after field splitting (what expandWords returns). */
  words: string[];
  /** Variables that were referenced and set. */
  used: Set<string>;
  /** Variables that were referenced but unset. */
  unset: Set<string>;
}

export type Env = Record<string, string> | ReadonlyMap<string, string>;

/** Substitute and unquote one word (spaces kept). Errors: `${v:?msg}`, bad syntax. */
export function expand(word: string, env: Env, opts: ExpandOptions = {}): string {
  return expandDetailed(word, env, opts).value;
}

/** Like expand, then split into words on unquoted whitespace (also inside unquoted substitutions). */
export function expandWords(word: string, env: Env, opts: ExpandOptions = {}): string[] {
  return expandDetailed(word, env, opts).words;
}

export function expandDetailed(word: string, env: Env, opts: ExpandOptions = {}): ExpandResult {
  const lexer = new Lexer(word, env, opts);
  const { value, words } = lexer.processStopOn(undefined);
  return { value, words: words.done(), used: lexer.used, unset: lexer.unset };
}

class Words {
  private list: string[] = [];
  private word = "";
  private inWord = false;

  addChar(ch: string): void {
    if (/\s/.test(ch)) {
      if (this.inWord && this.word.length > 0) {
        this.list.push(this.word);
        this.word = "";
        this.inWord = false;
      }
    } else this.addRawChar(ch);
  }

  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRawString(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  done(): string[] {
    if (this.inWord) {
      this.list.push(this.word);
      this.word = "";
      this.inWord = false;
    }
    return this.list;
  }
}

class Lexer {
  private pos = 0;
  private readonly chars: string[];
  private readonly escape: string;
  readonly used = new Set<string>();
  readonly unset = new Set<string>();
  private rawEscapes: boolean;

  constructor(input: string, private readonly env: Env, private readonly opts: ExpandOptions) {
    this.chars = [...input];
    this.escape = opts.escape ?? "\\";
    this.rawEscapes = opts.rawEscapes ?? false;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    return this.chars[this.pos++];
  }

  private lookup(name: string): string | undefined {
    const value = lookupEnv(this.env, name);
    if (value === undefined) {
      this.unset.add(name);
      this.opts.onUnset?.(name);
    } else {
      this.used.add(name);
      this.opts.onUse?.(name);
    }
    return value;
  }

  processStopOn(stop: string | undefined, rawEscapes = this.rawEscapes): { value: string; words: Words } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = "";
      const words = new Words();
      while (this.peek() !== undefined) {
        const ch = this.peek()!;
        if (stop !== undefined && ch === stop) {
          this.next();
          return { value: result, words };
        }
        if (ch === "$") {
          const tmp = this.processDollar();
          result += tmp;
          words.addString(tmp);
        } else if (ch === "'") {
          const tmp = this.processSingleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else if (ch === '"') {
          const tmp = this.processDoubleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else {
          let c = this.next()!;
          if (c === this.escape) {
            if (this.rawEscapes) {
              words.addRawChar(c);
              result += c;
            }
            const n = this.next();
            if (n === undefined) break;
            c = n;
            words.addRawChar(c);
          } else words.addChar(c);
          result += c;
        }
      }
      if (stop !== undefined) throw syntaxError(`unexpected end of statement while looking for matching ${stop}`);
      return { value: result, words };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    // Everything up to the next ' is literal, even the escape char.
    this.next();
    let result = this.opts.rawQuotes ? "'" : "";
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw syntaxError("unexpected end of statement while looking for matching single-quote");
      if (ch === "'") break;
      result += ch;
    }
    return this.opts.rawQuotes ? result + "'" : result;
  }

  private processDoubleQuote(): string {
    // Literal except $ substitutions; the escape char only escapes " $ and itself.
    this.next();
    let result = this.opts.rawQuotes ? '"' : "";
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw syntaxError("unexpected end of statement while looking for matching double-quote");
      if (ch === '"') {
        this.next();
        break;
      }
      if (ch === "$") {
        result += this.processDollar();
        continue;
      }
      let c = this.next()!;
      if (c === this.escape) {
        if (this.rawEscapes) result += c;
        const n = this.peek();
        if (n === undefined) continue;
        if (n === '"' || n === "$" || n === this.escape) c = this.next()!;
      }
      result += c;
    }
    return this.opts.rawQuotes ? result + '"' : result;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== "{") {
      const name = this.processName();
      if (name === "") return "$";
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnset) return "$" + name;
      return value ?? "";
    }
    this.next();
    const first = this.peek();
    if (first === undefined) throw syntaxError("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") throw syntaxError("syntax error: bad substitution");
    const name = this.processName();
    let ch = this.next();
    if (ch === undefined) throw syntaxError("syntax error: missing '}'");
    let chs = ch;
    let nullIsUnset = false;

    if (ch === "}") {
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnset) return "${" + name + "}";
      return value ?? "";
    }
    if (ch === ":") {
      nullIsUnset = true;
      ch = this.next();
      if (ch === undefined) throw syntaxError("syntax error: missing '}'");
      chs += ch;
    }
    if (ch === "+" || ch === "-" || ch === "?" || ch === "#" || ch === "%") {
      const patternLike = ch === "#" || ch === "%";
      if (nullIsUnset && patternLike) throw syntaxError(`unsupported modifier (${chs}) in substitution`);
      let word: string;
      try {
        word = this.processStopOn("}", patternLike).value;
      } catch (err) {
        if (this.peek() === undefined) throw syntaxError("syntax error: missing '}'");
        throw err;
      }
      const value = this.lookup(name);
      const set = value !== undefined;
      if (!set && this.opts.skipUnset) return "${" + name + chs + word + "}";
      const empty = !set || (nullIsUnset && value === "");
      switch (ch) {
        case "-":
          return empty ? word : value!;
        case "+":
          return empty ? "" : word;
        case "?":
          if (!set) throw syntaxError(`${name}: ${word || "is not allowed to be unset"}`);
          if (nullIsUnset && value === "") throw syntaxError(`${name}: ${word || "is not allowed to be empty"}`);
          return value!;
        default: {
          let longest = false;
          if (word.startsWith(ch)) {
            longest = true;
            word = word.slice(1);
          }
          const v = value ?? "";
          return ch === "%" ? trimSuffix(word, v, longest) : trimPrefix(word, v, longest);
        }
      }
    }
    if (ch === "/" && !nullIsUnset) {
      const all = this.peek() === "/";
      if (all) this.next();
      let pattern: string;
      try {
        pattern = this.processStopOn("/", true).value;
      } catch (err) {
        if (this.peek() === undefined) throw syntaxError("syntax error: missing '/' in ${}");
        throw err;
      }
      let replacement: string;
      try {
        replacement = this.processStopOn("}", true).value;
      } catch (err) {
        if (this.peek() === undefined) throw syntaxError("syntax error: missing '}'");
        throw err;
      }
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnset) return "${" + name + "/" + pattern + "/" + replacement + "}";
      return replacePattern(pattern, value ?? "", replacement, all);
    }
    throw syntaxError(`unsupported modifier (${chs}) in substitution`);
  }

  private processName(): string {
    let name = "";
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) break;
      if (name === "" && /[0-9]/.test(ch)) {
        while (this.peek() !== undefined && /[0-9]/.test(this.peek()!)) name += this.next();
        return name;
      }
      if (name === "" && "@*#?-$!0".includes(ch)) return this.next()!;
      if (!/[\p{L}\p{N}_]/u.test(ch)) break;
      name += this.next();
    }
    return name;
  }
}

export function lookupEnv(env: Env, name: string): string | undefined {
  if (env instanceof Map) return env.get(name);
  const rec = env as Record<string, string>;
  return Object.prototype.hasOwnProperty.call(rec, name) ? rec[name] : undefined;
}
