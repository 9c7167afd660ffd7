import { heredocData } from "./heredoc.js";
import { ParseError } from "./parse-error.js";
import { parseMount } from "./run-mount.js";
import { expand, expandWords, type Env, type ExpandOptions } from "./shell-lexer.js";
import type { Instruction, InstructionKind, RunMount } from "./types.js";

/**
 * Instructions whose arguments the builder substitutes (plus their flags). RUN, CMD and
 * ENTRYPOINT are left to the shell at run time; exec forms get no substitution at all.
 */
export const EXPANDING_INSTRUCTIONS: ReadonlySet<InstructionKind> = new Set<InstructionKind>([
  "ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR", "ARG",
]);

export interface ExpandInstructionOptions extends Pick<ExpandOptions, "escape" | "onUnset" | "onUse"> {
  /** For error locations (default "Dockerfile"). */
  file?: string;
}

/**
 * The instruction with Docker's substitution and quote removal applied, as the step executes it.
 * `env` is what is in scope: for FROM the global ARGs; otherwise the stage's ARGs overlaid by
 * its ENV (ENV wins). Within one instruction every reference sees the values from before it.
 * RUN gets only its --mount values substituted. Heredoc bodies of COPY/ADD are substituted
 * unless their delimiter was quoted, and chomped for `<<-`.
 */
export function expandInstruction<T extends Instruction>(instr: T, env: Env, opts: ExpandInstructionOptions = {}): T {
  const lexOpts: ExpandOptions = {
    ...(opts.escape !== undefined ? { escape: opts.escape } : {}),
    ...(opts.onUnset ? { onUnset: opts.onUnset } : {}),
    ...(opts.onUse ? { onUse: opts.onUse } : {}),
  };
  const x = (w: string) => expand(w, env, lexOpts);
  const opt = (w: string | undefined) => (w === undefined ? undefined : x(w));
  try {
    const out = expandUnlocated(instr, x, opt, (w) => expandWords(w, env, lexOpts));
    return out as T;
  } catch (err) {
    if (err instanceof ParseError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new ParseError(msg, instr.startLine, opts.file ?? "Dockerfile", instr.endLine);
  }
}

function expandUnlocated(
  instr: Instruction,
  x: (w: string) => string,
  opt: (w: string | undefined) => string | undefined,
  words: (w: string) => string[],
): Instruction {
  switch (instr.kind) {
    case "FROM": {
      const platform = opt(instr.platform);
      return { ...instr, image: x(instr.image), ...(platform !== undefined ? { platform } : {}) };
    }
    case "COPY":
    case "ADD": {
      const chown = opt(instr.chown);
      const chmod = opt(instr.chmod);
      const base = {
        ...instr,
        sources: instr.sources.map(x),
        dest: x(instr.dest),
        exclude: instr.exclude.map(x),
        heredocs: instr.heredocs.map((h) => ({ ...h, content: h.expand ? x(heredocData(h)) : heredocData(h), chomp: false })),
        ...(chown !== undefined ? { chown } : {}),
        ...(chmod !== undefined ? { chmod } : {}),
      };
      if (instr.kind === "COPY") {
        const from = opt(instr.from);
        return { ...base, kind: "COPY", ...(from !== undefined ? { from } : {}) } as Instruction;
      }
      const checksum = opt(instr.checksum);
      return { ...base, kind: "ADD", ...(checksum !== undefined ? { checksum } : {}) } as Instruction;
    }
    case "ENV":
    case "LABEL":
      return { ...instr, pairs: instr.pairs.map(([k, v]) => [x(k), x(v)] as [string, string]) };
    case "ARG":
      return {
        ...instr,
        args: instr.args.map((a) => ({ name: x(a.name), ...(a.default !== undefined ? { default: x(a.default) } : {}) })),
      };
    case "WORKDIR":
      return { ...instr, path: x(instr.path) };
    case "USER":
      return { ...instr, user: x(instr.user) };
    case "STOPSIGNAL":
      return { ...instr, signal: x(instr.signal) };
    case "VOLUME":
      return { ...instr, volumes: instr.volumes.map(x) };
    case "EXPOSE":
      return { ...instr, ports: instr.ports.flatMap(words) };
    case "RUN": {
      let ssh = 0;
      const mounts: RunMount[] = instr.mountSpecs.map((spec) => {
        const m = parseMount(spec, x, ssh);
        if (m.type === "ssh") ssh++;
        return m;
      });
      return { ...instr, mounts };
    }
    default:
      return instr;
  }
}
