import { heredocData, parseHeredocWord } from "./heredoc.js";
import type { CmdInstruction, EntrypointInstruction, Instruction, RunInstruction } from "./types.js";

/** The Linux default SHELL. */
export const DEFAULT_SHELL: readonly string[] = ["/bin/sh", "-c"];

/** A file RUN needs mounted read-only before it runs (a heredoc script with a `#!` line). */
export interface InlineFile {
  /** Absolute path inside the container. */
  path: string;
  data: string;
  mode: number;
}

/** Where heredoc scripts with a `#!` line are mounted (BuildKit's choice). */
export const INLINE_FILES_DIR = "/dev/pipes";

export interface RunPlan {
  argv: string[];
  files: InlineFile[];
}

/**
 * What a RUN executes: exec form as written; shell form as [...shell, text]. A RUN that is just
 * one heredoc runs its body through the shell, or as a script file when it starts with `#!`;
 * other heredoc uses are handed to the shell verbatim with their bodies re-attached.
 */
export function runPlanFor(shell: readonly string[], instr: RunInstruction): RunPlan {
  if (instr.form === "exec") return { argv: [...(instr.command as string[])], files: [] };
  const text = instr.command as string;
  if (instr.heredocs.length === 0) return { argv: [...shell, text], files: [] };
  const only = parseHeredocWord(text.trim());
  const first = instr.heredocs[0]!;
  if (only && instr.heredocs.length === 1 && text.trim().split(/\s+/).length === 1) {
    const data = heredocData(first);
    if (data.startsWith("#!")) {
      const path = `${INLINE_FILES_DIR}/${first.name}`;
      return { argv: [path], files: [{ path, data, mode: 0o755 }] };
    }
    return { argv: [...shell, data], files: [] };
  }
  let full = text;
  for (const h of instr.heredocs) full += "\n" + h.content + h.name;
  return { argv: [...shell, full], files: [] };
}

/** The argv a RUN, CMD or ENTRYPOINT produces under `shell` (for RUN, see runPlanFor for inline files). */
export function commandFor(shell: readonly string[], instr: RunInstruction | CmdInstruction | EntrypointInstruction): string[] {
  if (instr.kind === "RUN") return runPlanFor(shell, instr).argv;
  if (instr.form === "exec") return [...(instr.command as string[])];
  return [...shell, instr.command as string];
}

export interface CmdEntrypoint {
  cmd: string[] | null;
  entrypoint: string[] | null;
  shell: string[];
}

/**
 * Config.Cmd / Config.Entrypoint after a stage's instructions, starting from the base image's.
 * ENTRYPOINT resets Cmd to null unless a CMD came earlier in the same stage; `ENTRYPOINT []`
 * clears it; shell forms take the SHELL in effect at that point (SHELL instructions included).
 */
export function imageCmdEntrypoint(
  base: { cmd?: string[] | null; entrypoint?: string[] | null; shell?: string[] | null },
  instructions: readonly Instruction[],
): CmdEntrypoint {
  let cmd = base.cmd ?? null;
  let entrypoint = base.entrypoint ?? null;
  let shell = base.shell && base.shell.length > 0 ? [...base.shell] : [...DEFAULT_SHELL];
  let cmdSet = false;
  for (const instr of instructions) {
    if (instr.kind === "SHELL") shell = [...instr.shell];
    else if (instr.kind === "CMD") {
      cmd = commandFor(shell, instr);
      cmdSet = true;
    } else if (instr.kind === "ENTRYPOINT") {
      entrypoint = instr.form === "exec" && (instr.command as string[]).length === 0 ? null : commandFor(shell, instr);
      if (!cmdSet) cmd = null;
    }
  }
  return { cmd, entrypoint, shell };
}

/** What a container runs for an image config (the CMD/ENTRYPOINT table): entrypoint then cmd; empty = nothing to run. */
export function containerArgv(cfg: { cmd?: string[] | null; entrypoint?: string[] | null }, runArgs?: string[]): string[] {
  const cmd = runArgs && runArgs.length > 0 ? runArgs : cfg.cmd ?? [];
  return [...(cfg.entrypoint ?? []), ...cmd];
}
