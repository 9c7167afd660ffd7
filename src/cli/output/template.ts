/**
 * The subset of Go's text/template that docker --format strings use: fields and methods on a
 * context, pipelines, parenthesised calls, variables, if/else/range/with, and docker's functions.
 */

/** A value whose fields are fixed (docker's formatter contexts): unknown fields are template errors. */
export class TemplateContext {
  constructor(
    readonly typeName: string,
    readonly fields: Record<string, () => unknown>,
    readonly methods: Record<string, (...args: unknown[]) => unknown> = {},
  ) {}
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(this.fields).sort()) out[key] = this.fields[key]!();
    return out;
  }
}

export class TemplateError extends Error {}

/** A nil slice or map of a typed Go struct: prints "[]" / "map[]", marshals to null. */
export class TypedNil {
  constructor(readonly kind: "slice" | "map") {}
  toJSON(): null { return null; }
}

export interface ExecuteOptions {
  /** Field names whose null values are nil slices / nil maps in docker's typed structs. */
  nilSlices?: ReadonlySet<string>;
  nilMaps?: ReadonlySet<string>;
}

/** encoding/json's output: HTML-sensitive characters escaped. */
export function goJson(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

type Arg =
  | { t: "field"; recv: Arg | null; names: string[]; pos: number; text: string }
  | { t: "dot" } | { t: "var"; name: string; names: string[]; pos: number; text: string }
  | { t: "str"; v: string } | { t: "num"; v: number } | { t: "bool"; v: boolean } | { t: "nil" }
  | { t: "ident"; name: string } | { t: "pipe"; p: Pipeline };
interface Cmd { args: Arg[] }
interface Pipeline { decl: string[]; cmds: Cmd[] }
type Node =
  | { t: "text"; v: string }
  | { t: "action"; p: Pipeline }
  | { t: "if" | "range" | "with"; p: Pipeline; list: Node[]; elseList: Node[] | null };

const FUNCS_KNOWN = new Set(["json", "join", "split", "title", "lower", "upper", "pad", "truncate", "index", "len", "println", "print", "printf", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not", "slice", "html", "urlquery", "js", "call"]);

interface Tok { k: "field" | "var" | "str" | "num" | "ident" | "|" | "(" | ")" | ":=" | "=" | "," | "dot"; v: string; pos: number }

function lexAction(src: string, base: number): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const pos = base + i;
    if (/\s/.test(c)) { i++; continue; }
    if (c === "|" || c === "(" || c === ")" || c === ",") { toks.push({ k: c, v: c, pos }); i++; continue; }
    if (c === ":" && src[i + 1] === "=") { toks.push({ k: ":=", v: ":=", pos }); i += 2; continue; }
    if (c === "=") { toks.push({ k: "=", v: "=", pos }); i++; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === "\\" ? 2 : 1;
      if (j >= src.length) throw new TemplateError(`template: :1: unterminated quoted string`);
      toks.push({ k: "str", v: JSON.parse(src.slice(i, j + 1)) as string, pos });
      i = j + 1; continue;
    }
    if (c === "`") {
      const j = src.indexOf("`", i + 1);
      if (j < 0) throw new TemplateError(`template: :1: unterminated raw quoted string`);
      toks.push({ k: "str", v: src.slice(i + 1, j), pos });
      i = j + 1; continue;
    }
    const word = /^(-?\d+(?:\.\d+)?|\$?[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*\.?)/.exec(src.slice(i))?.[0] ?? "";
    if (!word) throw new TemplateError(`template: :1: unexpected "${c}" in command`);
    if (/^-?\d/.test(word)) toks.push({ k: "num", v: word, pos });
    else if (word === ".") toks.push({ k: "dot", v: word, pos });
    else if (word.startsWith(".")) toks.push({ k: "field", v: word, pos });
    else if (word.startsWith("$")) toks.push({ k: "var", v: word, pos });
    else toks.push({ k: "ident", v: word, pos });
    i += word.length;
  }
  return toks;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}
  done(): boolean { return this.i >= this.toks.length; }
  pipeline(): Pipeline {
    const decl: string[] = [];
    // "$x := ..." or "$k, $v := ..."
    let j = this.i;
    const vars: string[] = [];
    while (this.toks[j]?.k === "var" && /^\$\w*$/.test(this.toks[j]!.v)) {
      vars.push(this.toks[j]!.v);
      if (this.toks[j + 1]?.k === ",") { j += 2; continue; }
      if (this.toks[j + 1]?.k === ":=" || this.toks[j + 1]?.k === "=") { decl.push(...vars); this.i = j + 2; }
      break;
    }
    const cmds: Cmd[] = [];
    for (;;) {
      const args: Arg[] = [];
      while (!this.done() && this.toks[this.i]!.k !== "|" && this.toks[this.i]!.k !== ")") args.push(this.operand());
      if (!args.length) throw new TemplateError("template: :1: missing value for command");
      cmds.push({ args });
      if (this.toks[this.i]?.k === "|") { this.i++; continue; }
      break;
    }
    return { decl, cmds };
  }
  private operand(): Arg {
    const tok = this.toks[this.i++]!;
    let arg: Arg;
    switch (tok.k) {
      case "dot": arg = { t: "dot" }; break;
      case "field": arg = { t: "field", recv: null, names: tok.v.slice(1).split("."), pos: tok.pos, text: tok.v }; break;
      case "var": {
        const [name, ...names] = tok.v.split(".");
        arg = { t: "var", name: name!, names, pos: tok.pos, text: tok.v }; break;
      }
      case "str": arg = { t: "str", v: tok.v }; break;
      case "num": arg = { t: "num", v: Number(tok.v) }; break;
      case "ident":
        if (tok.v === "true" || tok.v === "false") arg = { t: "bool", v: tok.v === "true" };
        else if (tok.v === "nil") arg = { t: "nil" };
        else {
          if (!FUNCS_KNOWN.has(tok.v)) throw new TemplateError(`template: :1: function "${tok.v}" not defined`);
          arg = { t: "ident", name: tok.v };
        }
        break;
      case "(": {
        const p = this.pipeline();
        if (this.toks[this.i]?.k !== ")") throw new TemplateError("template: :1: unclosed left paren");
        this.i++;
        arg = { t: "pipe", p };
        break;
      }
      default: throw new TemplateError(`template: :1: unexpected "${tok.v}" in operand`);
    }
    // (pipeline).Field
    const next = this.toks[this.i];
    if (arg.t === "pipe" && next?.k === "field" && next.pos === this.toks[this.i - 1]!.pos + 1) {
      this.i++;
      return { t: "field", recv: arg, names: next.v.slice(1).split("."), pos: next.pos, text: next.v };
    }
    return arg;
  }
}

export function parseTemplate(src: string): Node[] {
  const root: Node[] = [];
  const stack: { node: Node & { t: "if" | "range" | "with" }; inElse: boolean; elseIfDepth: number }[] = [];
  const current = (): Node[] => {
    const top = stack[stack.length - 1];
    if (!top) return root;
    return top.inElse ? top.node.elseList! : top.node.list;
  };
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^\s+/, "");
    trimNext = false;
    if (open < 0) { if (text) current().push({ t: "text", v: text }); break; }
    let start = open + 2;
    if (src.startsWith("- ", start) || (src[start] === "-" && /\s/.test(src[start + 1] ?? ""))) { text = text.replace(/\s+$/, ""); start++; }
    if (text) current().push({ t: "text", v: text });
    const close = src.indexOf("}}", start);
    if (close < 0) throw new TemplateError("template: :1: unclosed action");
    let end = close;
    if (src[close - 1] === "-" && /\s/.test(src[close - 2] ?? "")) { end = close - 1; trimNext = true; }
    const body = src.slice(start, end);
    i = close + 2;
    const trimmed = body.trim();
    if (trimmed.startsWith("/*")) continue;
    const kw = /^(if|range|with|else|end)\b/.exec(trimmed)?.[1];
    const offset = start + body.indexOf(trimmed);
    if (kw === "end") {
      const top = stack.pop();
      if (!top) throw new TemplateError("template: :1: unexpected {{end}}");
      // "else if" chains close together
      for (let n = 0; n < top.elseIfDepth; n++) stack.pop();
      continue;
    }
    if (kw === "else") {
      const top = stack[stack.length - 1];
      if (!top) throw new TemplateError("template: :1: unexpected {{else}}");
      top.node.elseList = [];
      top.inElse = true;
      const rest = trimmed.slice(4).trim();
      if (rest.startsWith("if")) {
        const p = new Parser(lexAction(rest.slice(2), offset + 7)).pipeline();
        const node: Node & { t: "if" } = { t: "if", p, list: [], elseList: null };
        top.node.elseList.push(node);
        stack.push({ node, inElse: false, elseIfDepth: top.elseIfDepth + 1 });
        top.elseIfDepth = 0;
      }
      continue;
    }
    if (kw === "if" || kw === "range" || kw === "with") {
      const parser = new Parser(lexAction(trimmed.slice(kw.length), offset + kw.length));
      const node = { t: kw, p: parser.pipeline(), list: [], elseList: null } as Node & { t: "if" | "range" | "with" };
      current().push(node);
      stack.push({ node, inElse: false, elseIfDepth: 0 });
      continue;
    }
    const parser = new Parser(lexAction(body, start));
    const p = parser.pipeline();
    if (!parser.done()) throw new TemplateError("template: :1: unexpected \")\" in command");
    current().push({ t: "action", p });
  }
  if (stack.length) throw new TemplateError("template: :1: unexpected EOF");
  return root;
}

function fail(pos: number, text: string, msg: string): never {
  throw new TemplateError(`template: :1:${pos}: executing "" at <${text}>: ${msg}`);
}

function typeNameOf(v: unknown): string {
  if (v instanceof TemplateContext) return v.typeName;
  if (typeof v === "string") return "string";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float64";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "[]interface {}";
  return "interface {}";
}

function field(recv: unknown, name: string, pos: number, text: string, opts: ExecuteOptions = {}): unknown {
  if (recv instanceof TypedNil) return undefined;
  if (recv instanceof TemplateContext) {
    if (name in recv.fields) return recv.fields[name]!();
    if (name in recv.methods) return recv.methods[name];
    fail(pos, text, `can't evaluate field ${name} in type ${recv.typeName}`);
  }
  if (recv === undefined || recv === null) return undefined;
  if (typeof recv === "object" && !Array.isArray(recv)) {
    const v = (recv as Record<string, unknown>)[name];
    if (v === null && opts.nilSlices?.has(name)) return new TypedNil("slice");
    if (v === null && opts.nilMaps?.has(name)) return new TypedNil("map");
    return v;
  }
  fail(pos, text, `can't evaluate field ${name} in type ${typeNameOf(recv)}`);
}

export function truthy(v: unknown): boolean {
  if (v instanceof TypedNil) return false;
  if (v === undefined || v === null || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object" && !(v instanceof TemplateContext)) return Object.keys(v).length > 0;
  return true;
}

/** fmt's %v. */
export function printValue(v: unknown): string {
  if (v === undefined) return "<no value>";
  if (v === null) return "<nil>";
  if (v instanceof TypedNil) return v.kind === "slice" ? "[]" : "map[]";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(inner).join(" ")}]`;
  if (v instanceof TemplateContext) return printValue(v.toJSON());
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o).sort().map((k) => `${k}:${inner(o[k])}`).join(" ")}]`;
  }
  return String(v);
}
const inner = (v: unknown): string => (v === undefined || v === null ? "<nil>" : printValue(v));
const unwrap = (v: unknown): unknown => (v instanceof TypedNil ? (v.kind === "slice" ? [] : {}) : v);

function printf(format: string, args: unknown[]): string {
  let n = 0;
  return format.replace(/%([-+# 0]*\d*(?:\.\d+)?)([svdqtfgx%])/g, (_m, flags: string, verb: string) => {
    if (verb === "%") return "%";
    const a = args[n++];
    let s: string;
    switch (verb) {
      case "q": s = JSON.stringify(typeof a === "string" ? a : printValue(a)); break;
      case "d": s = String(Math.trunc(Number(a))); break;
      case "f": { const p = /\.(\d+)/.exec(flags)?.[1]; s = Number(a).toFixed(p ? Number(p) : 6); break; }
      case "x": s = typeof a === "number" ? a.toString(16) : Buffer.from(String(a)).toString("hex"); break;
      default: s = printValue(a);
    }
    const w = /^[-+# 0]*(\d+)/.exec(flags)?.[1];
    if (w) s = flags.includes("-") ? s.padEnd(Number(w)) : s.padStart(Number(w), flags.includes("0") ? "0" : " ");
    return s;
  });
}

function cmp(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

const FUNCS: Record<string, (...a: unknown[]) => unknown> = {
  json: (v) => goJson(v === undefined ? null : v),
  join: (arr, sep) => (arr = unwrap(arr), Array.isArray(arr) ? arr.map(printValue).join(String(sep)) : printValue(arr)),
  split: (s, sep) => String(s).split(String(sep)),
  title: (s) => String(s).replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_m, a: string, b: string) => a + b.toUpperCase()),
  lower: (s) => String(s).toLowerCase(),
  upper: (s) => String(s).toUpperCase(),
  pad: (s, l, r) => " ".repeat(Number(l)) + printValue(s) + " ".repeat(Number(r)),
  truncate: (s, n) => { const c = [...printValue(s)]; return c.length <= Number(n) ? c.join("") : c.slice(0, Number(n)).join(""); },
  index: (v, ...keys) => {
    let cur = unwrap(v);
    for (const k of keys) {
      if (cur === undefined || cur === null) throw new TemplateError("index of untyped nil");
      const obj = cur as Record<string, unknown>;
      cur = obj[String(k)];
      // a map of strings (labels, options) answers "" for a missing key, as Go's typed maps do
      if (cur === undefined && !Array.isArray(obj) && Object.values(obj).every((x) => typeof x === "string")) cur = "";
    }
    return cur;
  },
  len: (v) => (v = unwrap(v), Array.isArray(v) || typeof v === "string" ? v.length : v && typeof v === "object" ? Object.keys(v).length : 0),
  println: (...a) => a.map(printValue).join(" ") + "\n",
  print: (...a) => a.map((x, i) => (i > 0 && typeof x !== "string" && typeof a[i - 1] !== "string" ? " " : "") + printValue(x)).join(""),
  printf: (f, ...a) => printf(String(f), a),
  eq: (a, ...b) => b.some((x) => x === a || (typeof x !== "object" && String(x) === String(a) && typeof x === typeof a)),
  ne: (a, b) => a !== b,
  lt: (a, b) => cmp(a, b) < 0,
  le: (a, b) => cmp(a, b) <= 0,
  gt: (a, b) => cmp(a, b) > 0,
  ge: (a, b) => cmp(a, b) >= 0,
  and: (...a) => { for (const x of a) if (!truthy(x)) return x; return a[a.length - 1]; },
  or: (...a) => { for (const x of a) if (truthy(x)) return x; return a[a.length - 1]; },
  not: (a) => !truthy(a),
  slice: (v, i, j) => (typeof v === "string" || Array.isArray(v) ? v.slice(Number(i ?? 0), j === undefined ? undefined : Number(j)) : v),
  html: (s) => printValue(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`),
  urlquery: (s) => encodeURIComponent(printValue(s)),
  js: (s) => JSON.stringify(printValue(s)).slice(1, -1),
  call: (f, ...a) => (typeof f === "function" ? (f as (...x: unknown[]) => unknown)(...a) : undefined),
};

class Exec {
  private vars: Map<string, unknown>[];
  constructor(root: unknown, private readonly opts: ExecuteOptions = {}) { this.vars = [new Map([["$", root]])]; }

  run(nodes: Node[], dot: unknown, out: string[]): void {
    for (const n of nodes) {
      switch (n.t) {
        case "text": out.push(n.v); break;
        case "action": {
          const v = this.pipeline(n.p, dot);
          if (!n.p.decl.length) out.push(printValue(v));
          break;
        }
        case "if": {
          this.vars.push(new Map());
          const v = this.pipeline(n.p, dot);
          if (truthy(v)) this.run(n.list, dot, out); else if (n.elseList) this.run(n.elseList, dot, out);
          this.vars.pop();
          break;
        }
        case "with": {
          this.vars.push(new Map());
          const v = this.pipeline(n.p, dot);
          if (truthy(v)) this.run(n.list, v, out); else if (n.elseList) this.run(n.elseList, dot, out);
          this.vars.pop();
          break;
        }
        case "range": {
          this.vars.push(new Map());
          const v = unwrap(this.pipeline({ decl: [], cmds: n.p.cmds }, dot));
          const entries: [unknown, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x])
            : v && typeof v === "object" && !(v instanceof TemplateContext) ? Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]])
            : typeof v === "number" ? Array.from({ length: v }, (_x, i) => [i, i]) : [];
          if (!entries.length && n.elseList) this.run(n.elseList, dot, out);
          for (const [k, x] of entries) {
            const scope = this.vars[this.vars.length - 1]!;
            if (n.p.decl.length === 1) scope.set(n.p.decl[0]!, x);
            if (n.p.decl.length === 2) { scope.set(n.p.decl[0]!, k); scope.set(n.p.decl[1]!, x); }
            this.run(n.list, x, out);
          }
          this.vars.pop();
          break;
        }
      }
    }
  }

  private lookupVar(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.has(name)) return this.vars[i]!.get(name);
    throw new TemplateError(`template: :1: undefined variable "${name}"`);
  }

  pipeline(p: Pipeline, dot: unknown): unknown {
    let value: unknown;
    let hasPrev = false;
    for (const cmd of p.cmds) {
      value = this.command(cmd, dot, hasPrev ? [value] : []);
      hasPrev = true;
    }
    if (p.decl.length) this.vars[this.vars.length - 1]!.set(p.decl[0]!, value);
    return value;
  }

  private command(cmd: Cmd, dot: unknown, piped: unknown[]): unknown {
    const [first, ...rest] = cmd.args;
    if (first!.t === "ident") {
      const args = [...rest.map((a) => this.arg(a, dot)), ...piped];
      try {
        return FUNCS[first!.name]!(...args);
      } catch (err) {
        if (err instanceof TemplateError) throw err;
        throw new TemplateError(`template: :1: error calling ${first!.name}: ${(err as Error).message}`);
      }
    }
    const v = this.arg(first!, dot);
    if (typeof v === "function") return (v as (...a: unknown[]) => unknown)(...rest.map((a) => this.arg(a, dot)), ...piped);
    if (rest.length || piped.length) {
      const text = first!.t === "field" ? first!.text : "";
      throw new TemplateError(`template: :1: executing "" at <${text}>: can't give argument to non-function ${text}`);
    }
    return v;
  }

  private arg(a: Arg, dot: unknown): unknown {
    switch (a.t) {
      case "dot": return dot;
      case "str": case "num": case "bool": return a.v;
      case "nil": return null;
      case "pipe": return this.pipeline(a.p, dot);
      case "ident": return FUNCS[a.name]!();
      case "var": {
        let v = this.lookupVar(a.name);
        for (const name of a.names) v = field(v, name, a.pos, a.text, this.opts);
        return v;
      }
      case "field": {
        let v = a.recv ? this.arg(a.recv, dot) : dot;
        for (const name of a.names) v = field(v, name, a.pos, a.text, this.opts);
        return v;
      }
    }
  }
}

export interface Template { execute(data: unknown, opts?: ExecuteOptions): string }

/** Parses once; execute() renders one value. Throws TemplateError with Go's wording. */
export function compileTemplate(src: string): Template {
  const nodes = parseTemplate(src);
  return {
    execute(data: unknown, opts?: ExecuteOptions): string {
      const out: string[] = [];
      new Exec(data, opts).run(nodes, data, out);
      return out.join("");
    },
  };
}
