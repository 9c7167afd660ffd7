import { EngineError } from "../../errdefs/index.js";
import { heredocsFromLine } from "./heredoc.js";
import { canContainHeredoc, parseInstruction, type RawNode } from "./parse-instruction.js";
import { ParseError } from "./parse-error.js";
import { splitCommand } from "./split-command.js";
import type {
  ArgInstruction, Directives, Dockerfile, EscapeChar, Heredoc, Instruction, Stage,
} from "./types.js";

export interface ParseOptions {
  /** Name used in error locations (default "Dockerfile"). */
  file?: string;
}

const DIRECTIVE = /^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
const KNOWN_DIRECTIVES = new Set(["syntax", "escape", "check"]);

/** Parse a Dockerfile into stages of typed instructions. Throws ParseError (invalid-argument) with the line. */
export function parseDockerfile(text: string, opts: ParseOptions = {}): Dockerfile {
  const file = opts.file ?? "Dockerfile";
  const nodes = scan(text, file);
  const escape = nodes.escape;

  const metaArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  for (const node of nodes.nodes) {
    let instr: Instruction;
    try {
      instr = parseInstruction(node, escape);
    } catch (err) {
      throw located(err, node.startLine, file, node.endLine);
    }
    if (instr.kind === "FROM") {
      if (instr.stageName !== undefined && stages.some((s) => s.name === instr.stageName)) {
        throw new ParseError(`duplicate stage name ${JSON.stringify(instr.stageName)}`, instr.startLine, file);
      }
      stages.push({
        ...(instr.stageName !== undefined ? { name: instr.stageName } : {}),
        index: stages.length, from: instr, instructions: [],
      });
      continue;
    }
    const current = stages[stages.length - 1];
    if (!current) {
      if (instr.kind === "ARG") {
        metaArgs.push(instr);
        continue;
      }
      throw new ParseError("no build stage in current context", node.startLine, file, node.endLine);
    }
    current.instructions.push(instr);
  }
  if (stages.length === 0) throw new EngineError("invalid-argument", "dockerfile contains no stages to build");
  return { directives: nodes.directives, escape, metaArgs, stages, warnings: nodes.warnings };
}

function located(err: unknown, line: number, file: string, endLine: number): Error {
  if (err instanceof ParseError) return err;
  if (err instanceof Error) return new ParseError(err.message, line, file, endLine);
  return new ParseError(String(err), line, file, endLine);
}

interface ScanResult {
  nodes: RawNode[];
  escape: EscapeChar;
  directives: Directives;
  warnings: Dockerfile["warnings"];
}

/** Lines -> logical lines (BuildKit's parser loop): directives, comments, continuations, heredoc bodies. */
function scan(text: string, file: string): ScanResult {
  const lines = text.split(/(?<=\n)/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (lines[0]?.startsWith("\uFEFF")) lines[0] = lines[0].slice(1);

  let escape: EscapeChar = "\\";
  let continuation = continuationRegex(escape);
  const directives: Directives = {};
  const seen = new Set<string>();
  let directivesDone = false;
  const warnings: ScanResult["warnings"] = [];

  const possibleDirective = (line: string, lineNo: number): void => {
    if (directivesDone) return;
    const m = DIRECTIVE.exec(line);
    const key = m?.[1]!.toLowerCase();
    if (!m || !key || !KNOWN_DIRECTIVES.has(key)) {
      directivesDone = true;
      return;
    }
    if (seen.has(key)) throw new ParseError(`only one ${key} parser directive can be used`, lineNo, file);
    seen.add(key);
    const value = m[2]!;
    if (key === "escape") {
      if (value !== "`" && value !== "\\") {
        throw new ParseError(`invalid escape token '${value}' does not match \` or \\`, lineNo, file);
      }
      escape = value;
      directives.escape = value;
      continuation = continuationRegex(escape);
    } else if (key === "syntax") directives.syntax = value;
    else {
      directives.check = value;
      directives.checks = parseCheck(value, lineNo, file);
    }
  };

  const trimNewline = (s: string) => s.replace(/[\r\n]+$/, "");
  const isComment = (s: string) => /^\s*#/.test(s);
  const trimCont = (s: string): [string, boolean] => {
    if (continuation.test(s)) return [s.replace(continuation, "$1"), false];
    return [s, true];
  };

  const nodes: RawNode[] = [];
  let i = 0;
  let lineNo = 0;
  while (i < lines.length) {
    let first = trimNewline(lines[i++]!).replace(/^\s+/, "");
    possibleDirective(first, lineNo + 1);
    if (isComment(first)) first = "";
    lineNo++;
    const startLine = lineNo;
    let [line, endOfLine] = trimCont(first);
    if (endOfLine && line === "") continue;

    let emptyContinuation = false;
    while (!endOfLine && i < lines.length) {
      const raw = trimNewline(lines[i++]!);
      possibleDirective(raw, lineNo + 1);
      lineNo++;
      if (isComment(raw)) continue;
      if (raw.trim() === "") {
        emptyContinuation = true;
        continue;
      }
      const [part, eol] = trimCont(raw);
      line += part;
      endOfLine = eol;
    }
    if (emptyContinuation) warnings.push({ line: lineNo, message: `Empty continuation line found in: ${line}` });

    const { keyword, flags, args } = splitCommand(line);
    const heredocs: Heredoc[] = [];
    if (line.includes("<<") && canContainHeredoc(line)) {
      for (const h of heredocsFromLine(line)) {
        let content = "";
        let terminated = false;
        while (i < lines.length) {
          const raw = lines[i++]!;
          lineNo++;
          let candidate = trimNewline(raw);
          if (h.chomp) candidate = candidate.replace(/^\t+/, "");
          if (candidate === h.name) {
            terminated = true;
            break;
          }
          content += raw;
        }
        if (!terminated) throw new ParseError("unterminated heredoc", startLine, file, lineNo);
        heredocs.push({ ...h, content });
      }
    }
    nodes.push({ keyword, flags, args, original: line, startLine, endLine: lineNo, heredocs });
  }
  if (nodes.length === 0) throw new ParseError("file with no instructions", Math.max(lineNo, 1), file);
  return { nodes, escape, directives, warnings };
}

function continuationRegex(escape: EscapeChar): RegExp {
  const e = escape === "\\" ? "\\\\" : "`";
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

/** `# check=skip=A,B;error=true`. */
function parseCheck(value: string, line: number, file: string): NonNullable<Directives["checks"]> {
  const out: NonNullable<Directives["checks"]> = { skip: [], error: false };
  for (const part of value.split(";")) {
    const p = part.trim();
    if (p === "") continue;
    const eq = p.indexOf("=");
    const k = (eq === -1 ? p : p.slice(0, eq)).trim().toLowerCase();
    const v = eq === -1 ? "" : p.slice(eq + 1).trim();
    if (k === "skip") {
      const names = v.split(",").map((s) => s.trim()).filter(Boolean);
      out.skip = names.some((n) => n.toLowerCase() === "all") ? "all" : names;
    } else if (k === "error") {
      if (!/^(true|false|1|0|t|f)$/i.test(v)) throw new ParseError(`failed to parse check error value: ${v}`, line, file);
      out.error = /^(true|1|t)$/i.test(v);
    } else throw new ParseError(`invalid check directive: ${p}`, line, file);
  }
  return out;
}

