import { expand, lookupEnv, type Env } from "./shell-lexer.js";
import type { ArgInstruction, Dockerfile } from "./types.js";

/** Proxy ARGs usable as --build-arg without an ARG line; kept out of history and cache keys unless declared. */
export const PROXY_ARGS: readonly string[] = [
  "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
  "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
];

/** Automatic platform ARGs (global scope; a stage imports one with `ARG NAME`). */
export function platformArgs(target = "linux/amd64", build = "linux/amd64"): Record<string, string> {
  const t = splitPlatform(target);
  const b = splitPlatform(build);
  return {
    TARGETPLATFORM: t.platform, TARGETOS: t.os, TARGETARCH: t.arch, TARGETVARIANT: t.variant,
    BUILDPLATFORM: b.platform, BUILDOS: b.os, BUILDARCH: b.arch, BUILDVARIANT: b.variant,
  };
}

function splitPlatform(p: string): { platform: string; os: string; arch: string; variant: string } {
  const [os = "linux", arch = "amd64", variant = ""] = p.split("/");
  return { platform: [os, arch, variant].filter(Boolean).join("/"), os, arch, variant };
}

export interface EffectiveArgsOptions {
  targetPlatform?: string;
  buildPlatform?: string;
}

/**
 * The global ARG scope (what FROM lines see): the automatic platform ARGs, then each ARG before
 * the first FROM in order — its default substituted with the globals so far, a --build-arg of
 * the same name winning. An ARG with neither stays unset.
 */
export function effectiveArgs(
  metaArgs: readonly ArgInstruction[],
  buildArgs: Readonly<Record<string, string>>,
  opts: EffectiveArgsOptions = {},
): Map<string, string> {
  const global = new Map(Object.entries(platformArgs(opts.targetPlatform, opts.buildPlatform)));
  for (const instr of metaArgs) {
    // Defaults see the globals from before this instruction.
    const before = new Map(global);
    for (const a of instr.args) {
      const name = expand(a.name, before);
      if (Object.prototype.hasOwnProperty.call(buildArgs, name)) global.set(name, buildArgs[name]!);
      else if (a.default !== undefined) global.set(name, expand(a.default, before));
    }
  }
  return global;
}

/**
 * ARGs in scope within one stage. Declare each ARG as the stage reaches it; a child stage
 * (`FROM <stage>`) starts from a clone of its parent's scope.
 */
export class StageArgs {
  private readonly declared: Map<string, string | undefined>;

  constructor(
    readonly global: ReadonlyMap<string, string>,
    readonly buildArgs: Readonly<Record<string, string>>,
    inherited?: ReadonlyMap<string, string | undefined>,
  ) {
    this.declared = new Map(inherited ?? []);
  }

  /**
   * Apply `ARG a[=d] ...`. `stageEnv` is the stage's ENV at this point (defaults are substituted
   * with the args in scope overlaid by it). Value: --build-arg, else the default, else the
   * global value of that name, else unset.
   */
  declare(instr: ArgInstruction, stageEnv: Env = {}): void {
    const env = this.expansionEnv(stageEnv);
    for (const a of instr.args) {
      const name = expand(a.name, env);
      let value: string | undefined;
      if (Object.prototype.hasOwnProperty.call(this.buildArgs, name)) value = this.buildArgs[name];
      else if (a.default !== undefined) value = expand(a.default, env);
      else value = this.global.get(name);
      this.declared.set(name, value);
    }
  }

  /** Declared names that have a value (what RUN sees and the classic cache key's `|N K=V` lists). */
  values(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.declared) if (v !== undefined) out[k] = v;
    return out;
  }

  isDeclared(name: string): boolean {
    return this.declared.has(name);
  }

  /** Variables for substitution in this stage: args overlaid by ENV (ENV wins). */
  expansionEnv(stageEnv: Env = {}): Record<string, string> {
    const out = this.values();
    const keys = stageEnv instanceof Map ? [...stageEnv.keys()] : Object.keys(stageEnv);
    for (const k of keys) out[k] = lookupEnv(stageEnv, k)!;
    return out;
  }

  /** Proxy --build-args not declared here: passed to RUN, but not part of history or cache keys. */
  proxyArgs(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const k of PROXY_ARGS) {
      if (Object.prototype.hasOwnProperty.call(this.buildArgs, k) && !this.declared.has(k)) out[k] = this.buildArgs[k]!;
    }
    return out;
  }

  clone(): StageArgs {
    return new StageArgs(this.global, this.buildArgs, this.declared);
  }
}

/** --build-arg names no ARG declares (the classic builder warns "One or more build-args [X] were not consumed"). */
export function unusedBuildArgs(df: Dockerfile, buildArgs: Readonly<Record<string, string>>): string[] {
  const declared = new Set<string>(PROXY_ARGS);
  const all = [...df.metaArgs, ...df.stages.flatMap((s) => s.instructions)];
  for (const i of all) {
    const arg = i.kind === "ARG" ? i : i.kind === "ONBUILD" && i.inner.kind === "ARG" ? i.inner : undefined;
    if (arg) for (const a of arg.args) declared.add(a.name);
  }
  return Object.keys(buildArgs).filter((k) => !declared.has(k)).sort();
}
