import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rmdir, writeFile, rm, lstat, readFile } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Readable } from "node:stream";
import { cancelled, EngineError, invalidArgument, isKind } from "../errdefs/index.js";
import { packDiff, resolveInRoot } from "../images/layer/index.js";
import { resolveUser } from "../containers/user.js";
import type { LocalImagesService } from "../services/images-service.js";
import type { ContainersService } from "../services/types.js";
import type { ContainerConfig, ContainerCreateBody, HostConfig, JsonMessage } from "../spec/engine.js";
import type { ImageConfig } from "../spec/oci-image.js";
import { mountAll, unmountAll } from "../sys/mount.js";
import { newId, shortId, stopwatch, type Logger } from "../util/index.js";
import { BuildCache, cacheKey, sourcesDigest, type StepInputs } from "./cache/build-cache.js";
import { matchCacheSource, restoredImageConfig, stepComment, type CacheSource } from "./cache/cache-from.js";
import type { BuildContext } from "./context/build-context.js";
import { copyDestination, writeCopy } from "./copy/write-copy.js";
import { fetchSources } from "./copy/fetch-sources.js";
import { cleanSource, scanTree, selectionFiles, selectSources, type SelectedSource, type SourceTree } from "./copy/source-tree.js";
import { parentsDestination, parentsSource } from "./copy/parents-path.js";
import {
  DEFAULT_SHELL, StageArgs, commandFor, expandInstruction, resolveStage, runPlanFor,
  type Dockerfile, type Instruction, type Stage, type CopyInstruction, type AddInstruction, type RunInstruction,
} from "./dockerfile/index.js";
import { lookupEnv } from "./dockerfile/shell-lexer.js";
import type { StepEvent } from "../spec/build-step-event.js";

export interface ExecutorDeps {
  images: LocalImagesService;
  containers: ContainersService;
  cache: BuildCache;
  tmpRoot: string;
  logger: Logger;
  /** Optional: fetch a base image that is not present (the daemon wires its puller here). */
  pullImage?: (ref: string, signal?: AbortSignal) => Promise<void>;
}

export interface ExecutorOptions {
  buildArgs: Record<string, string>;
  globalArgs: Map<string, string>;
  noCache: boolean;
  pull: boolean;
  explain: boolean;
  /** Structured step events ({"id":"berth.step","aux":StepEvent}) instead of the classic text lines; RUN output stays as stream. */
  events?: boolean;
  /** RUN --mount=type=secret values by id (Berth extension: never cached, never in a layer). */
  secrets?: Record<string, Buffer>;
  rm: boolean;
  forceRm: boolean;
  networkMode?: string;
  shmSize?: number;
  memory?: number;
  extraHosts?: string[];
  platform: string;
  /** Images whose history can stand in for steps (--cache-from). */
  cacheFrom?: CacheSource[];
  signal?: AbortSignal;
}

/** What a built stage leaves for later stages (FROM <stage>, COPY --from). */
export interface StageResult {
  imageId: string | null;
  config: ContainerConfig;
}

/** A step's outcome, for callers that report or test which steps were reused. */
export interface StepReport {
  step: number;
  instruction: string;
  cached: boolean;
  reason?: string;
  imageId: string | null;
  ms: number;
  /** The cache key inputs (with --explain). */
  explain?: string;
}


interface StageOutput {
  step: number;
  emit: (m: JsonMessage) => void;
}

interface StageState {
  imageId: string | null;
  config: ContainerConfig;
  args: StageArgs;
  cmdSet: boolean;
  author: string;
  rebuilt: boolean;
  first: boolean;
  /** The history comment (step key) of the step being built. */
  comment?: string;
  /** The step being built reads files of the build context; a later step of the stage does. */
  readsContext?: boolean;
  contextAhead?: boolean;
}

/** Whether an instruction reads files of the build context (COPY/ADD without --from, RUN --mount=type=bind without from). */
function usesContext(i: Instruction): boolean {
  if (i.kind === "COPY" || i.kind === "ADD") return (i.kind === "ADD" || i.from === undefined) && i.sources.some((x) => !/^https?:\/\//.test(x));
  if (i.kind === "RUN") return i.mounts.some((m) => m.type === "bind" && m.from === undefined);
  return false;
}

/** A build step failure that carries the exit code of a failed RUN (errorDetail.code). */
export class StepError extends EngineError {
  constructor(message: string, readonly code?: number) {
    super("invalid-argument", message);
  }
}

/**
 * Runs the stages of a parsed Dockerfile on the image and container services, Docker classic builder
 * style: one image per step, a cache lookup before each, messages as the build goes.
 */
export class BuildExecutor {
  readonly results = new Map<number, StageResult>();
  readonly reports: StepReport[] = [];
  /** Per stage (stages may run at once): its step counter and where its messages go. */
  readonly #stageCtx = new AsyncLocalStorage<StageOutput>();
  readonly #mainCtx: StageOutput;
  #prefetched = false;

  constructor(
    private readonly deps: ExecutorDeps,
    private readonly df: Dockerfile,
    private readonly ctx: BuildContext,
    private readonly o: ExecutorOptions,
    emit: (m: JsonMessage) => void,
    private readonly totalSteps: number,
  ) {
    this.#mainCtx = { step: 0, emit };
  }

  #ctx(): StageOutput {
    return this.#stageCtx.getStore() ?? this.#mainCtx;
  }

  /** A classic-builder text line (left out in events mode, where step events carry the same facts). */
  #say(text: string): void {
    if (!this.o.events) this.#ctx().emit({ stream: text });
  }

  /** Output of a RUN step's container. */
  #output(text: string, stderr: boolean): void {
    this.#ctx().emit({ stream: stderr && !this.o.events ? `\u001b[91m${text}\u001b[0m` : text });
  }

  #begin(instruction: string): void {
    const step = ++this.#ctx().step;
    this.#say(`Step ${step}/${this.totalSteps} : ${instruction}\n`);
    if (this.o.events) this.#event({ step, total: this.totalSteps, instruction, state: "running" });
  }

  #report(r: StepReport): void {
    this.reports.push(r);
    if (this.o.events) {
      this.#event({
        step: r.step, total: this.totalSteps, instruction: r.instruction, state: r.cached ? "cached" : "done", ms: r.ms, imageId: r.imageId,
        ...(r.reason !== undefined ? { reason: r.reason } : {}), ...(r.explain !== undefined ? { explain: r.explain } : {}),
      });
    }
  }

  #event(e: StepEvent): void {
    this.#ctx().emit({ id: "berth.step", aux: e });
  }

  #check(): void {
    if (this.o.signal?.aborted) throw cancelled("build cancelled");
  }

  /** Print the meta ARG steps (ARG before the first FROM). */
  metaArgSteps(): void {
    for (const a of this.df.metaArgs) {
      this.#begin(a.original);
      if (this.o.events) this.#event({ step: this.#ctx().step, total: this.totalSteps, instruction: a.original, state: "cached", ms: 0 });
    }
  }

  /** The steps this executor has numbered so far (meta ARGs, and stages run without `out`). */
  get stepsSoFar(): number {
    return this.#mainCtx.step;
  }

  /**
   * Build one stage. With `out`, its steps are numbered from out.firstStep and its messages go to
   * out.emit, so stages can build at the same time; without, they follow the steps before.
   */
  async runStage(stage: Stage, extraInstructions: Instruction[] = [], out?: { firstStep: number; emit: (m: JsonMessage) => void }): Promise<StageResult> {
    if (!out) return this.#runStage(stage, extraInstructions);
    return this.#stageCtx.run({ step: out.firstStep - 1, emit: out.emit }, () => this.#runStage(stage, extraInstructions));
  }

  async #runStage(stage: Stage, extraInstructions: Instruction[]): Promise<StageResult> {
    this.#check();
    const t0 = Date.now();
    this.#begin(stage.from.original);
    const baseRef = expandInstruction(stage.from, this.o.globalArgs, { escape: this.df.escape }).image;
    let imageId: string | null = null;
    let baseCfg: ImageConfig | null = null;
    const fromStage = resolveStage(this.df, baseRef);
    if (fromStage && fromStage.index < stage.index) {
      const r = this.results.get(fromStage.index);
      if (!r) throw invalidArgument(`stage ${baseRef} was not built`);
      imageId = r.imageId;
      if (imageId) baseCfg = (await this.deps.images.imageConfig(imageId)).config;
    } else if (baseRef.toLowerCase() !== "scratch") {
      const got = await this.#baseImage(baseRef);
      imageId = got.id;
      baseCfg = got.config;
    }
    if (imageId) this.#say(` ---> ${shortHex(imageId)}\n`);
    this.#report({ step: this.#ctx().step, instruction: stage.from.original, cached: true, imageId, ms: Date.now() - t0 });
    const state: StageState = {
      imageId, config: structuredClone(baseCfg?.config ?? {}),
      args: new StageArgs(this.o.globalArgs, this.o.buildArgs), cmdSet: false, author: baseCfg?.author ?? "",
      rebuilt: false, first: true,
    };
    const triggers = state.config.OnBuild ?? [];
    if (triggers.length > 0) {
      this.#say(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? "s" : ""}\n`);
      state.config.OnBuild = null;
      for (const t of triggers) {
        const { parseDockerfile } = await import("./dockerfile/index.js");
        const instr = parseDockerfile(`FROM scratch\n${t}\n`).stages[0]!.instructions[0];
        if (instr) await this.#runStep(state, instr, false);
      }
    }
    const all = [...stage.instructions, ...extraInstructions];
    for (const [i, instr] of all.entries()) {
      this.#check();
      this.#begin(instr.original);
      state.readsContext = usesContext(instr);
      state.contextAhead = all.slice(i + 1).some(usesContext);
      await this.#runStep(state, instr, true);
    }
    const result = { imageId: state.imageId, config: state.config };
    this.results.set(stage.index, result);
    return result;
  }

  async #baseImage(ref: string): Promise<{ id: string; config: ImageConfig }> {
    if (this.o.pull && this.deps.pullImage) await this.deps.pullImage(ref, this.o.signal);
    try {
      return await this.deps.images.imageConfig(ref);
    } catch (err) {
      if (!isKind(err, "not-found") || !this.deps.pullImage || this.o.pull) throw err;
      await this.deps.pullImage(ref, this.o.signal);
      return this.deps.images.imageConfig(ref);
    }
  }

  async #runStep(state: StageState, raw: Instruction, counted: boolean): Promise<void> {
    const t0 = Date.now();
    const envMap = envToMap(state.config.Env);
    const used = new Set<string>();
    const scope = state.args.expansionEnv(envMap);
    const instr = expandInstruction(raw, scope, { escape: this.df.escape, onUse: (n) => used.add(n) });
    if (instr.kind === "ARG") state.args.declare(raw as typeof instr, envMap);
    const shell = state.config.Shell?.length ? state.config.Shell : [...DEFAULT_SHELL];
    const next = structuredClone(state.config);
    let resolved = "";
    let runArgv: string[] | null = null;
    let vars: Record<string, string> = {};
    let argNames: string[] = [];
    for (const n of used) {
      const v = lookupEnv(scope, n);
      if (v !== undefined) vars[n] = v;
    }
    argNames = [...used].filter((n) => !envMap.has(n) && state.args.isDeclared(n));

    switch (instr.kind) {
      case "ENV": {
        for (const [k, v] of instr.pairs) setEnv(next, k, v);
        resolved = `ENV ${instr.pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`;
        break;
      }
      case "LABEL":
        next.Labels = { ...(next.Labels ?? {}) };
        for (const [k, v] of instr.pairs) next.Labels[k] = v;
        resolved = `LABEL ${instr.pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`;
        break;
      case "ARG":
        resolved = `ARG ${instr.args.map((a) => (a.default !== undefined ? `${a.name}=${a.default}` : a.name)).join(" ")}`;
        break;
      case "WORKDIR":
        next.WorkingDir = posix.isAbsolute(instr.path) ? posix.normalize(instr.path) : posix.join(next.WorkingDir || "/", instr.path);
        resolved = `WORKDIR ${next.WorkingDir}`;
        break;
      case "USER":
        next.User = instr.user;
        resolved = `USER ${instr.user}`;
        break;
      case "EXPOSE":
        next.ExposedPorts = { ...(next.ExposedPorts ?? {}) };
        for (const p of instr.ports) for (const q of expandPorts(p)) next.ExposedPorts[q] = {};
        resolved = `EXPOSE ${Object.keys(next.ExposedPorts).sort().join(" ")}`;
        break;
      case "VOLUME":
        next.Volumes = { ...(next.Volumes ?? {}) };
        for (const v of instr.volumes) {
          if (v.trim() === "") throw invalidArgument("VOLUME specified can not be an empty string");
          next.Volumes[v] = {};
        }
        resolved = `VOLUME [${instr.volumes.join(" ")}]`;
        break;
      case "STOPSIGNAL":
        next.StopSignal = instr.signal;
        resolved = `STOPSIGNAL ${instr.signal}`;
        break;
      case "SHELL":
        next.Shell = [...instr.shell];
        resolved = `SHELL ${JSON.stringify(instr.shell)}`;
        break;
      case "CMD":
        next.Cmd = commandFor(shell, instr);
        state.cmdSet = true;
        resolved = `CMD ${JSON.stringify(next.Cmd)}`;
        break;
      case "ENTRYPOINT":
        next.Entrypoint = instr.form === "exec" && (instr.command as string[]).length === 0 ? null : commandFor(shell, instr);
        if (!state.cmdSet) next.Cmd = null;
        resolved = `ENTRYPOINT ${JSON.stringify(next.Entrypoint ?? [])}`;
        break;
      case "HEALTHCHECK": {
        const h = instr.health;
        next.Healthcheck = instr.none ? { Test: ["NONE"] } : {
          Test: h.test,
          ...(h.interval ? { Interval: h.interval } : {}), ...(h.timeout ? { Timeout: h.timeout } : {}),
          ...(h.startPeriod ? { StartPeriod: h.startPeriod } : {}), ...(h.startInterval ? { StartInterval: h.startInterval } : {}),
          ...(h.retries ? { Retries: h.retries } : {}),
        };
        resolved = `HEALTHCHECK ${JSON.stringify(next.Healthcheck)}`;
        break;
      }
      case "ONBUILD":
        next.OnBuild = [...(next.OnBuild ?? []), instr.expression];
        resolved = `ONBUILD ${instr.expression}`;
        break;
      case "MAINTAINER":
        state.author = instr.maintainer;
        resolved = `MAINTAINER ${instr.maintainer}`;
        break;
      case "RUN": {
        const plan = runPlanFor(shell, instr);
        runArgv = plan.argv;
        vars = state.args.values();
        argNames = Object.keys(vars);
        // A mount from another stage or image makes its content an input: key on the image id.
        const fromIds: string[] = [];
        for (const m of instr.mounts) {
          if ((m.type !== "bind" && m.type !== "cache") || m.from === undefined) continue;
          const st = resolveStage(this.df, m.from);
          fromIds.push(st ? this.results.get(st.index)?.imageId ?? "" : (await this.#baseImage(m.from)).id);
        }
        resolved = `RUN ${JSON.stringify(runArgv)}${instr.network ? ` --network=${instr.network}` : ""}${
          instr.mounts.length ? ` --mount=${JSON.stringify(instr.mounts)}` : ""}${fromIds.length ? ` from=${JSON.stringify(fromIds)}` : ""}`;
        break;
      }
      case "COPY":
      case "ADD":
        return this.#copyStep(state, raw as CopyInstruction | AddInstruction, instr, vars, argNames, counted, t0);
      case "FROM":
        throw invalidArgument("FROM inside a stage");
    }

    const inputs: StepInputs = {
      parent: state.imageId ?? "", kind: instr.kind, instruction: raw.original, resolved, vars, argNames, platform: this.o.platform,
    };
    const createdBy = runArgv ? runCreatedBy(runArgv, vars) : `${shell.join(" ")} #(nop)  ${resolved}`;
    await this.#cached(state, inputs, next, counted, t0, raw.original, async () => {
      if (instr.kind === "RUN") return this.#run(state, instr, runArgv!, next, createdBy);
      if (instr.kind === "WORKDIR") {
        return this.#withRootfs(state.imageId, async (root) => {
          const host = await resolveInRoot(root, next.WorkingDir!);
          const st = await lstat(host).catch(() => null);
          if (!st) await mkdirAll(root, next.WorkingDir!);
        }, (layer) => this.#commit(state, layer, next, createdBy));
      }
      return this.#commit(state, null, next, createdBy);
    });
    state.config = next;
  }

  /** Look up the step; on a miss explain it, run `build`, record the result. Moves the stage on. */
  async #cached(
    state: StageState, inputs: StepInputs, config: ContainerConfig, counted: boolean, t0: number, text: string, build: () => Promise<string>,
  ): Promise<void> {
    const key = cacheKey(inputs);
    const step = this.#ctx().step;
    const explain = this.o.explain ? `${describeInputs(inputs)} => ${key.slice(0, 12)}` : undefined;
    if (explain) this.#say(` ---> Cache key: ${explain}\n`);
    state.comment = stepComment(inputs);
    let reason: string;
    if (this.o.noCache) reason = "cache disabled (--no-cache)";
    else {
      const hit = this.deps.cache.get(key);
      let id = hit && (await this.#imageExists(hit.imageId)) ? hit.imageId : null;
      if (hit && !id) await this.deps.cache.delete(key);
      if (!id) {
        id = await this.#fromCacheSources(state, config, state.comment);
        if (id) await this.deps.cache.put(key, inputs, id);
      } else this.deps.cache.touch(key);
      if (id) {
        this.#say(" ---> Using cache\n");
        this.#say(` ---> ${shortHex(id)}\n`);
        state.imageId = id;
        state.first = false;
        if (counted) this.#report({ step, instruction: text, cached: true, imageId: id, ms: Date.now() - t0, ...(explain ? { explain } : {}) });
        return;
      }
      reason = await this.deps.cache.explain(inputs, { parentRebuilt: state.rebuilt, firstInStage: state.first });
    }
    this.#say(` ---> Cache miss: ${text}: ${reason}\n`);
    // From the first miss on, the steps after it miss too: unpack the context for the later steps that read
    // it while this one runs (a step that reads it itself unpacks just its own sources first).
    if (state.contextAhead && !this.#prefetched && !state.readsContext) {
      this.#prefetched = true;
      this.ctx.materialize(this.o.signal ? { signal: this.o.signal } : {}).catch(() => {});
    }
    const id = await build();
    await this.deps.cache.put(key, inputs, id);
    this.#say(` ---> ${shortHex(id)}\n`);
    state.imageId = id;
    state.rebuilt = true;
    state.first = false;
    if (counted) this.#report({ step, instruction: text, cached: false, reason, imageId: id, ms: Date.now() - t0, ...(explain ? { explain } : {}) });
  }

  /** A --cache-from image whose history continues the parent with this step: restore that step's image. */
  async #fromCacheSources(state: StageState, config: ContainerConfig, comment: string): Promise<string | null> {
    if (!this.o.cacheFrom?.length) return null;
    const parent = state.imageId ? (await this.deps.images.imageConfig(state.imageId)).config : null;
    for (const src of this.o.cacheFrom) {
      const hit = matchCacheSource(parent, src.config, comment);
      if (!hit) continue;
      const cfg = restoredImageConfig(parent, src.config, hit, config);
      return this.deps.images.addImage({
        config: Buffer.from(JSON.stringify(cfg)),
        // Every layer is already present: the parent's, and the matched one from the cache source.
        openLayer: async (i) => { throw invalidArgument(`cache-from ${src.ref}: layer ${i} is missing`); },
        ...(this.o.signal ? { signal: this.o.signal } : {}),
      });
    }
    return null;
  }

  async #imageExists(id: string): Promise<boolean> {
    try {
      await this.deps.images.resolve(id);
      return true;
    } catch (err) {
      if (isKind(err, "not-found")) return false;
      throw err;
    }
  }

  /** `layer` is a layer tar, or the key of an active snapshot on the parent whose upper dir is the layer (committed in place). */
  #commit(state: StageState, layer: Readable | string | null, config: ContainerConfig, createdBy: string): Promise<string> {
    return this.deps.images.commitLayer({
      parent: state.imageId, ...(typeof layer === "string" ? { layer: null, snapshot: layer } : { layer }), config, createdBy,
      ...(state.comment ? { historyComment: state.comment } : {}),
      ...(state.author ? { author: state.author } : {}),
      ...(this.o.signal ? { signal: this.o.signal } : {}),
    });
  }

  /**
   * A writable snapshot on the image, mounted for `change`; then `commit` gets the snapshot's key to adopt
   * as the step's layer (or null when nothing changed). The mount is gone afterwards, and the snapshot
   * too unless the commit took it, whatever happens.
   */
  async #withRootfs(imageId: string | null, change: (root: string) => Promise<void>, commit: (snapshot: string | null) => Promise<string>): Promise<string> {
    const snap = this.deps.images.snapshotter;
    const top = imageId ? (await this.deps.images.resolve(imageId)).topSnapshot : null;
    const key = `build-${newId().slice(0, 24)}`;
    await snap.prepare(key, top, { labels: { "berth.build": "step" } });
    const mnt = await mkdtemp(join(this.deps.tmpRoot, "mnt-"));
    let adopted = false;
    try {
      await mountAll(await snap.mounts(key), mnt);
      try {
        await change(mnt);
      } finally {
        await unmountAll(mnt);
      }
      const upper = await snap.dir(key);
      const empty = (await readdir(upper)).length === 0;
      const id = await commit(empty ? null : key);
      adopted = !empty;
      return id;
    } finally {
      await unmountAll(mnt).catch(() => {});
      await rmdir(mnt).catch(() => {});
      if (!adopted) await snap.remove(key).catch((err) => { if (!isKind(err, "not-found")) this.deps.logger.warn("removing build snapshot", { key, err }); });
    }
  }

  /** A read-only mounted view of an image, open until close(); null root for an image without layers. */
  async #openView(imageId: string | null): Promise<{ root: string | null; close(): Promise<void> }> {
    const top = imageId ? (await this.deps.images.resolve(imageId)).topSnapshot : null;
    if (!top) return { root: null, close: async () => {} };
    const snap = this.deps.images.snapshotter;
    const key = `build-view-${newId().slice(0, 24)}`;
    await snap.view(key, top, { labels: { "berth.build": "view" } });
    const mnt = await mkdtemp(join(this.deps.tmpRoot, "view-"));
    const close = async () => {
      await unmountAll(mnt).catch(() => {});
      await rmdir(mnt).catch(() => {});
      await snap.remove(key).catch((err) => this.deps.logger.warn("removing build view", { key, err }));
    };
    try {
      await mountAll(await snap.mounts(key), mnt);
    } catch (err) {
      await close();
      throw err;
    }
    return { root: mnt, close };
  }

  /** A read-only mounted view of an image for COPY --from; null root for an image without layers. */
  async #withImageView<T>(imageId: string | null, fn: (root: string | null) => Promise<T>): Promise<T> {
    if (!imageId) return fn(null);
    const top = (await this.deps.images.resolve(imageId)).topSnapshot;
    if (!top) return fn(null);
    const snap = this.deps.images.snapshotter;
    const key = `build-view-${newId().slice(0, 24)}`;
    await snap.view(key, top, { labels: { "berth.build": "view" } });
    const mnt = await mkdtemp(join(this.deps.tmpRoot, "view-"));
    try {
      await mountAll(await snap.mounts(key), mnt);
      return await fn(mnt);
    } finally {
      await unmountAll(mnt).catch(() => {});
      await rmdir(mnt).catch(() => {});
      await snap.remove(key).catch((err) => this.deps.logger.warn("removing build view", { key, err }));
    }
  }

  async #copyStep(
    state: StageState, raw: CopyInstruction | AddInstruction, instr: Instruction, vars: Record<string, string>, argNames: string[],
    counted: boolean, t0: number,
  ): Promise<void> {
    const c = instr as CopyInstruction | AddInstruction;
    const what = c.kind;
    const from = c.kind === "COPY" ? c.from : undefined;
    const urls = c.sources.filter((s) => /^https?:\/\//.test(s));
    for (const s of c.sources) {
      if (/^(https?|git):\/\//.test(s) || s.startsWith("git@")) {
        if (c.kind === "COPY") throw invalidArgument(`COPY failed: source can't be a URL for COPY`);
        if (!/^https?:\/\//.test(s)) throw invalidArgument(`ADD failed: git sources are not supported: ${s}`);
      }
    }
    if (urls.length > 0 && urls.length !== c.sources.length) throw invalidArgument("ADD failed: URL and local sources cannot be mixed in one ADD");
    if (c.kind === "ADD" && c.checksum !== undefined && urls.length === 0) throw invalidArgument("ADD failed: --checksum is only supported for HTTP(S) sources");
    const shell = state.config.Shell?.length ? state.config.Shell : [...DEFAULT_SHELL];
    const flags = [
      ...(from !== undefined ? [`--from=${from}`] : []), ...(c.chown ? [`--chown=${c.chown}`] : []),
      ...(c.chmod ? [`--chmod=${c.chmod}`] : []), ...c.exclude.map((x) => `--exclude=${x}`),
      // The pivots decide where files land, so they are part of the step's identity.
      ...(c.parents ? [`--parents=${c.sources.map((s) => parentsSource(s).pivot || ".").join(",")}`] : []),
    ];
    const run = async (tree: SourceTree, keepOwner: boolean, sources: readonly string[] = c.sources, remote = false): Promise<void> => {
      const selected = sources.length > 0 ? selectSources(tree, sources, what, { parents: c.parents && !remote }) : [];
      const files = selectionFiles(tree, selected, c.exclude);
      for (const h of c.heredocs) files.push([`<<${h.name}`, sha(h.content)]);
      const digest = sourcesDigest(files);
      const dest = copyDestination(c.dest, state.config.WorkingDir ?? "/");
      const srcLabel = files.length === 1 ? `file:${digest.slice(7)}` : selected.length === 1 && selected[0]!.isDir ? `dir:${digest.slice(7)}` : `multi:${digest.slice(7)}`;
      const resolved = `${what} ${flags.join(" ")}${flags.length ? " " : ""}${srcLabel} in ${c.dest}`;
      const inputs: StepInputs = {
        parent: state.imageId ?? "", kind: what, instruction: raw.original, resolved, vars, argNames, platform: this.o.platform,
        sources: { digest, files },
      };
      const createdBy = `${shell.join(" ")} #(nop) ${what} ${flags.join(" ")}${flags.length ? " " : ""}${srcLabel} in ${c.dest} `;
      await this.#cached(state, inputs, state.config, counted, t0, raw.original, () => {
        const sw = stopwatch(this.deps.logger, "copy");
        return this.#withRootfs(state.imageId, async (root) => {
          sw.lap("rootfs");
          if (tree.kind === "context") await this.ctx.materialize({ paths: selected.map((x) => x.rel), ...(this.o.signal ? { signal: this.o.signal } : {}) });
          sw.lap("materialize");
          const owner = c.chown ? await resolveChown(root, c.chown) : undefined;
          const mode = c.chmod ? parseChmod(c.chmod) : undefined;
          const opts = { keepOwner, excludes: c.exclude, ...(owner ? { owner } : {}), ...(mode !== undefined ? { mode } : {}) };
          if (selected.length > 0) await writeCopy(tree, selected, dest, root, opts, what);
          if (c.heredocs.length > 0) await this.#writeHeredocs(root, c, dest, opts);
          if (c.kind === "ADD" && !remote) await this.#extractArchives(root, tree, selected, dest);
          sw.lap("write");
        }, async (layer) => {
          const id = await this.#commit(state, layer, state.config, createdBy);
          sw.lap("commit");
          sw.done({ instruction: raw.original });
          return id;
        });
      });
    };
    if (urls.length > 0) {
      const got = await fetchSources(urls, {
        tmpRoot: this.deps.tmpRoot, ...(c.kind === "ADD" && c.checksum !== undefined ? { checksum: c.checksum } : {}),
        ...(this.o.signal ? { signal: this.o.signal } : {}),
      });
      try {
        return await run(got.tree, false, got.names, true);
      } finally {
        await rm(got.dir, { recursive: true, force: true });
      }
    }
    if (from === undefined) return run({ root: this.ctx.dir, entries: this.ctx.entries, kind: "context" }, false);
    const st = resolveStage(this.df, from);
    let imageId: string | null;
    if (st) {
      const r = this.results.get(st.index);
      if (!r) throw invalidArgument(`COPY failed: stage ${from} is not built before this stage`);
      imageId = r.imageId;
    } else {
      imageId = (await this.#baseImage(from)).id;
    }
    await this.#withImageView(imageId, async (root) => {
      const scanRoots = c.sources.map((s) => {
        const rel = cleanSource(s);
        const i = rel.search(/[*?[]/);
        return i < 0 ? rel : rel.slice(0, Math.max(0, rel.lastIndexOf("/", i)));
      });
      const entries = root ? await scanTree(root, scanRoots) : new Map();
      await run({ root: root ?? "/nonexistent", entries, kind: "image" }, true);
    });
  }

  async #writeHeredocs(root: string, c: CopyInstruction | AddInstruction, dest: { path: string; isDir: boolean }, o: { owner?: { uid: number; gid: number }; mode?: number }): Promise<void> {
    for (const h of c.heredocs) {
      const target = dest.isDir || c.heredocs.length + c.sources.length > 1 ? posix.join(dest.path, h.name) : dest.path;
      await mkdirAll(root, posix.dirname(target));
      const host = join(await resolveInRoot(root, posix.dirname(target)), posix.basename(target));
      await writeFile(host, h.content, { mode: o.mode ?? 0o644 });
      const { chown, chmod } = await import("node:fs/promises");
      await chown(host, o.owner?.uid ?? 0, o.owner?.gid ?? 0);
      await chmod(host, o.mode ?? 0o644);
    }
  }

  /** ADD: local tar archives (any usual compression) are extracted at the destination instead of copied. */
  async #extractArchives(root: string, tree: SourceTree, selected: readonly SelectedSource[], dest: { path: string; isDir: boolean }): Promise<void> {
    const { extractArchive } = await import("../images/layer/index.js");
    const { createReadStream } = await import("node:fs");
    for (const s of selected) {
      if (s.isDir || !(await looksLikeArchive(join(tree.root, s.rel)))) continue;
      // writeCopy placed the archive file itself; replace it by its contents.
      let placed = dest.path;
      const st = await lstat(await resolveInRoot(root, placed)).catch(() => null);
      if (s.pivot !== undefined) placed = parentsDestination(dest.path, s.rel, s.pivot);
      else if (dest.isDir || st?.isDirectory()) placed = posix.join(placed, posix.basename(s.rel));
      await rm(await resolveInRoot(root, placed, { followLast: false }), { force: true });
      const dir = dest.isDir || st?.isDirectory() ? dest.path : dest.path;
      await mkdirAll(root, dir);
      await extractArchive(createReadStream(join(tree.root, s.rel)), root, s.pivot !== undefined ? posix.dirname(parentsDestination(dest.path, s.rel, s.pivot)) : dir);
    }
  }

  async #run(state: StageState, instr: RunInstruction, argv: string[], config: ContainerConfig, createdBy: string): Promise<string> {
    if (!state.imageId) throw invalidArgument("RUN cannot run on an empty image (FROM scratch has no shell or files)");
    const env = [...(config.Env ?? [])];
    const have = new Set(env.map((e) => e.split("=", 1)[0]));
    for (const [k, v] of Object.entries({ ...state.args.values(), ...state.args.proxyArgs() })) if (!have.has(k)) env.push(`${k}=${v}`);
    const network = instr.network === "none" ? "none" : instr.network === "host" ? "host" : this.o.networkMode || "default";
    const hc: HostConfig = {
      NetworkMode: network,
      ...(this.o.shmSize ? { ShmSize: this.o.shmSize } : {}),
      ...(this.o.memory ? { Memory: this.o.memory } : {}),
      ...(this.o.extraHosts?.length ? { ExtraHosts: this.o.extraHosts } : {}),
    };
    const plan = runPlanFor(config.Shell?.length ? config.Shell : [...DEFAULT_SHELL], instr);
    const binds: string[] = [];
    const scratch: string[] = [];
    const stubs: string[] = [];
    const views: { close(): Promise<void> }[] = [];
    try {
      for (const f of plan.files) {
        const d = await mkdtemp(join(this.deps.tmpRoot, "inline-"));
        scratch.push(d);
        const p = join(d, posix.basename(f.path));
        await writeFile(p, f.data, { mode: f.mode });
        binds.push(`${p}:${f.path}:ro`);
      }
      const fromContext = instr.mounts.flatMap((m) => (m.type === "bind" && m.from === undefined ? [cleanSource(m.source)] : []));
      if (fromContext.length > 0) await this.ctx.materialize({ paths: fromContext, ...(this.o.signal ? { signal: this.o.signal } : {}) });
      for (const m of instr.mounts) {
        if (m.type === "bind") {
          if (m.from !== undefined) {
            const st = resolveStage(this.df, m.from);
            let imageId: string | null;
            if (st) {
              const r = this.results.get(st.index);
              if (!r) throw invalidArgument(`RUN --mount from=${m.from}: the stage is not built before this one`);
              imageId = r.imageId;
            } else imageId = (await this.#baseImage(m.from)).id;
            const view = await this.#openView(imageId);
            views.push(view);
            const src = view.root ? await resolveInRoot(view.root, `/${cleanSource(m.source)}`) : null;
            if (!src || !(await lstat(src).catch(() => null))) throw invalidArgument(`RUN --mount from=${m.from}: ${m.source || "/"} not found`);
            binds.push(`${src}:${m.target}:ro`);
            stubs.push(...selfAndParents(m.target));
            continue;
          }
          const src = join(this.ctx.dir, cleanSource(m.source));
          binds.push(`${src}:${m.target}:ro`);
        } else if (m.type === "cache") {
          const d = join(this.deps.tmpRoot, "..", "cache-mounts", sha(m.id).slice(0, 32));
          const { mkdir, chown, chmod } = await import("node:fs/promises");
          await mkdir(d, { recursive: true });
          await chown(d, m.uid, m.gid);
          await chmod(d, m.mode);
          binds.push(`${d}:${m.target}${m.readonly ? ":ro" : ""}`);
        } else if (m.type === "secret") {
          const data = this.o.secrets?.[m.id];
          if (!data) {
            if (m.required) throw invalidArgument(`secret ${m.id}: not found`);
            continue;
          }
          if (m.env) env.push(`${m.env}=${data.toString("utf8")}`);
          if (m.target) {
            const d = await mkdtemp(join(this.deps.tmpRoot, "secret-"));
            scratch.push(d);
            const p = join(d, "secret");
            await writeFile(p, data, { mode: m.mode });
            const { chown, chmod } = await import("node:fs/promises");
            await chown(p, m.uid, m.gid);
            await chmod(p, m.mode);
            binds.push(`${p}:${m.target}:ro`);
            stubs.push(...selfAndParents(m.target));
          }
        } else if (m.type === "tmpfs") {
          hc.Tmpfs = { ...(hc.Tmpfs ?? {}), [m.target]: m.size ? `size=${m.size}` : "" };
        } else {
          throw invalidArgument(`RUN --mount=type=${m.type} is not supported by this builder`);
        }
      }
      if (binds.length) hc.Binds = binds;
      const body: ContainerCreateBody = {
        Image: state.imageId, Cmd: argv, Entrypoint: [""], Env: env, User: config.User ?? "", WorkingDir: config.WorkingDir ?? "",
        AttachStdout: true, AttachStderr: true, Labels: {}, HostConfig: hc,
      };
      const { Id } = await this.deps.containers.create(body);
      let ok = false;
      try {
        this.#say(` ---> Running in ${shortId(Id)}\n`);
        const code = await this.#runContainer(Id);
        if (code !== 0) throw new StepError(`The command '${argv.join(" ")}' returned a non-zero code: ${code}`, code);
        const info = await this.deps.containers.inspect(Id);
        const upper = info.GraphDriver?.Data?.UpperDir;
        const lowers = info.GraphDriver?.Data?.LowerDir?.split(":").filter(Boolean) ?? [];
        let id: string;
        if (upper) {
          await dropRuntimeStubs(upper, lowers, stubs);
          const empty = (await readdir(upper)).length === 0;
          id = await this.#commit(state, empty ? null : packDiff(upper, this.o.signal ? { signal: this.o.signal } : {}), config, createdBy);
        } else {
          id = await this.deps.containers.commit(Id, { config });
        }
        ok = true;
        return id;
      } finally {
        if (ok ? this.o.rm : this.o.rm || this.o.forceRm) {
          await this.deps.containers.remove(Id, { force: true }).catch((err) => this.deps.logger.warn("removing build container", { id: Id, err }));
          this.#say(` ---> Removed intermediate container ${shortId(Id)}\n`);
        }
      }
    } finally {
      for (const v of views) await v.close();
      for (const d of scratch) await rm(d, { recursive: true, force: true });
    }
  }

  /** Start the container with its output streamed into the build; its exit code. */
  async #runContainer(id: string): Promise<number> {
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    this.o.signal?.addEventListener("abort", onAbort);
    const it = this.deps.containers.attach(id, { stream: true, logs: true, stdout: true, stderr: true, signal: ac.signal })[Symbol.asyncIterator]();
    // The first next() runs attach up to its wait for the exit, so no output or exit is missed.
    const first = it.next();
    const pump = (async () => {
      let r = await first;
      while (!r.done) {
        const text = r.value.data.toString("utf8");
        this.#output(text, r.value.stream === "stderr");
        r = await it.next();
      }
    })().catch(() => {});
    try {
      await this.deps.containers.start(id);
      const res = await this.deps.containers.wait(id, "not-running", this.o.signal);
      await Promise.race([pump, new Promise((r) => setTimeout(r, 2000).unref())]);
      return res.StatusCode;
    } finally {
      ac.abort();
      this.o.signal?.removeEventListener("abort", onAbort);
      await it.return?.(undefined).catch(() => {});
      await pump;
    }
  }
}

const RUNTIME_STUBS = ["etc/hosts", "etc/hostname", "etc/resolv.conf", "dev", "proc", "sys", "etc"];

/**
 * runc creates mount points (etc/hosts, /proc, ...) missing from the image in the container's upper dir;
 * Docker keeps these in an init layer, out of commits. Empty stubs absent from every lower layer are
 * dropped, and then an /etc left empty that only existed as a copy-up.
 */
async function dropRuntimeStubs(upper: string, lowers: string[], extra: readonly string[] = []): Promise<void> {
  const inLower = async (rel: string) => {
    for (const l of lowers) if (await lstat(join(l, rel)).catch(() => null)) return true;
    return false;
  };
  for (const rel of [...extra, ...RUNTIME_STUBS]) {
    const p = join(upper, rel);
    const st = await lstat(p).catch(() => null);
    if (!st) continue;
    if (st.isFile() && st.size === 0 && !(await inLower(rel))) await rm(p, { force: true });
    else if (st.isDirectory() && (await readdir(p)).length === 0) {
      if (rel === "etc") {
        const { execFileSync } = await import("node:child_process");
        let opaque = false;
        try {
          opaque = execFileSync("getfattr", ["--only-values", "-n", "trusted.overlay.opaque", p], { stdio: ["ignore", "pipe", "ignore"] }).toString() === "y";
        } catch { /* no such attribute */ }
        if (!opaque && (await inLower(rel))) await rmdir(p).catch(() => {});
      } else if (!(await inLower(rel))) await rmdir(p).catch(() => {});
    }
  }
}

/** "/run/secrets/x" -> ["run/secrets/x", "run/secrets", "run"]: a mount point's stubs, children first. */
function selfAndParents(path: string): string[] {
  const out: string[] = [];
  for (let p = posix.normalize(path).replace(/^\/+/, ""); p && p !== "."; p = posix.dirname(p)) out.push(p);
  return out;
}

async function mkdirAll(root: string, path: string): Promise<void> {
  const { mkdir } = await import("node:fs/promises");
  let prefix = "/";
  for (const c of path.split("/").filter(Boolean)) {
    prefix = posix.join(prefix, c);
    const host = await resolveInRoot(root, prefix);
    const st = await lstat(host).catch(() => null);
    if (!st) await mkdir(host, { mode: 0o755 });
    else if (!st.isDirectory()) throw invalidArgument(`mkdir ${path}: ${prefix} is not a directory`);
  }
}

async function looksLikeArchive(p: string): Promise<boolean> {
  const { open } = await import("node:fs/promises");
  const fh = await open(p, "r");
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    const b = buf.subarray(0, bytesRead);
    if (b[0] === 0x1f && b[1] === 0x8b) return true;                                        // gzip
    if (b.subarray(0, 3).toString("latin1") === "BZh") return true;                          // bzip2
    if (b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true; // xz
    if (b.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return true;          // zstd
    return bytesRead >= 262 && b.subarray(257, 262).toString("latin1") === "ustar";
  } finally {
    await fh.close();
  }
}

async function resolveChown(root: string, spec: string): Promise<{ uid: number; gid: number }> {
  const read = async (p: string) => readFile(await resolveInRoot(root, p), "utf8").catch(() => null);
  const [u, g] = spec.split(":", 2) as [string, string?];
  const passwd = await read("/etc/passwd");
  const group = await read("/etc/group");
  try {
    const r = resolveUser(g === undefined ? u : `${u}:${g}`, passwd, group);
    // Docker: a user without a group means the same number as the group.
    return { uid: r.uid, gid: g === undefined ? r.uid : r.gid };
  } catch (err) {
    throw invalidArgument(`unable to convert uid/gid chown string to host mapping: ${(err as Error).message}`);
  }
}

function parseChmod(s: string): number {
  if (!/^[0-7]{1,4}$/.test(s)) throw invalidArgument(`invalid chmod parameter: ${s}`);
  return parseInt(s, 8);
}

function sha(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

function envToMap(env: string[] | null | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf("=");
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

function setEnv(c: ContainerConfig, k: string, v: string): void {
  const env = [...(c.Env ?? [])];
  const i = env.findIndex((e) => e.split("=", 1)[0] === k);
  if (i >= 0) env[i] = `${k}=${v}`;
  else env.push(`${k}=${v}`);
  c.Env = env;
}

function expandPorts(p: string): string[] {
  const [ports, proto = "tcp"] = p.split("/", 2) as [string, string?];
  const m = /^(\d+)(?:-(\d+))?$/.exec(ports);
  if (!m) throw invalidArgument(`Invalid containerPort: ${ports}`);
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  if (b < a || b - a > 65535) throw invalidArgument(`Invalid port range: ${ports}`);
  const out: string[] = [];
  for (let i = a; i <= b; i++) out.push(`${i}/${proto.toLowerCase()}`);
  return out;
}

/** Docker's history text for RUN: "|N K=V ... <argv>" when build args are in effect. */
function runCreatedBy(argv: string[], args: Record<string, string>): string {
  const keys = Object.keys(args).sort();
  if (keys.length === 0) return argv.join(" ");
  return `|${keys.length} ${keys.map((k) => `${k}=${args[k]}`).join(" ")} ${argv.join(" ")}`;
}

function describeInputs(i: StepInputs): string {
  const parts = [`parent=${i.parent ? shortHex(i.parent) : "scratch"}`, `instruction=${JSON.stringify(i.resolved)}`];
  const vars = Object.keys(i.vars).sort();
  if (vars.length) parts.push(`vars=${vars.map((k) => `${k}=${i.vars[k]}`).join(",")}`);
  if (i.sources) parts.push(`sources=${i.sources.digest.slice(0, 19)} (${i.sources.files.length} paths)`);
  return parts.join(" ");
}

export function shortHex(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

