import { EngineError } from "../../errdefs/index.js";
import { parseMount } from "./run-mount.js";
import { expand, type Env } from "./shell-lexer.js";
import type { Dockerfile, Instruction, Stage } from "./types.js";

/**
 * The stage a `FROM x`, `COPY --from=x` or `RUN --mount=from=x` names: by (case-insensitive)
 * name, or by 0-based index when x is a number. undefined = not a stage (an image or context).
 */
export function resolveStage(df: Dockerfile, nameOrIndex: string | number): Stage | undefined {
  if (typeof nameOrIndex === "number") return df.stages[nameOrIndex];
  const byName = df.stages.find((s) => s.name !== undefined && s.name === nameOrIndex.toLowerCase());
  if (byName) return byName;
  if (/^\d+$/.test(nameOrIndex)) return df.stages[Number(nameOrIndex)];
  return undefined;
}

export interface StageDepsOptions {
  /** Global ARG values, to substitute in FROM and --from values (see effectiveArgs). */
  globalArgs?: Env;
}

/**
 * The stages one stage directly depends on, ascending: its FROM base when that is an earlier
 * stage, COPY --from and RUN --mount from= stages. ONBUILD triggers are not followed: they run
 * in downstream builds.
 */
export function stageDependencies(df: Dockerfile, index: number, opts: StageDepsOptions = {}): number[] {
  const stage = df.stages[index];
  if (!stage) throw new EngineError("not-found", `stage ${index} does not exist`);
  const env = opts.globalArgs ?? {};
  const sub = (w: string) => {
    try {
      return expand(w, env);
    } catch {
      return w;
    }
  };
  const deps = new Set<number>();
  const base = resolveStage(df, sub(stage.from.image));
  if (base && base.index < index) deps.add(base.index);
  const addRef = (ref: string | undefined) => {
    if (ref === undefined || ref === "") return;
    const s = resolveStage(df, sub(ref));
    if (s) deps.add(s.index);
  };
  for (const instr of stage.instructions) for (const ref of stageRefs(instr)) addRef(ref);
  return [...deps].sort((a, b) => a - b);
}

function stageRefs(instr: Instruction): string[] {
  if (instr.kind === "COPY") return instr.from !== undefined ? [instr.from] : [];
  if (instr.kind === "RUN") {
    return instr.mountSpecs.flatMap((spec) => {
      const m = parseMount(spec);
      return (m.type === "bind" || m.type === "cache") && m.from !== undefined ? [m.from] : [];
    });
  }
  return [];
}

/**
 * Indices (ascending) of the stages needed to build `target` (a stage name or index; default
 * the last stage), following FROM <stage>, COPY --from and RUN --mount from= transitively.
 */
export function stagesNeededFor(df: Dockerfile, target?: string, opts: StageDepsOptions = {}): number[] {
  let root: Stage | undefined;
  if (target === undefined || target === "") root = df.stages[df.stages.length - 1];
  else root = df.stages.find((s) => s.name === target.toLowerCase());
  if (!root) throw new EngineError("invalid-argument", `target stage "${target}" could not be found`);
  const needed = new Set<number>();
  const visiting = new Set<number>();
  const visit = (i: number) => {
    if (needed.has(i)) return;
    if (visiting.has(i)) {
      throw new EngineError("invalid-argument", `circular dependency detected on stage: ${df.stages[i]!.name ?? String(i)}`);
    }
    visiting.add(i);
    for (const d of stageDependencies(df, i, opts)) visit(d);
    visiting.delete(i);
    needed.add(i);
  };
  visit(root.index);
  return [...needed].sort((a, b) => a - b);
}
