/**
 * BuildService: POST /build as Docker's classic builder speaks it, on the local image and container
 * services, with a content-keyed step cache that says why each rebuilt step was rebuilt.
 */
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { BuildCache } from "../builder/cache/build-cache.js";
import type { CacheSource } from "../builder/cache/cache-from.js";
import { BuildExecutor, StepError, shortHex, type StepReport } from "../builder/build-executor.js";
import { OrderedOutput } from "../builder/ordered-output.js";
import { runStages } from "../builder/run-stages.js";
import { receiveContext } from "../builder/context/build-context.js";
import { fetchRemoteContext } from "../builder/context/remote-context.js";
import { IgnoreMatcher } from "../spec/dockerignore.js";
import { StatCache } from "../builder/context/stat-cache.js";
import {
  effectiveArgs, parseDockerfile, stageDependencies, stagesNeededFor, unusedBuildArgs, type Instruction,
} from "../builder/dockerfile/index.js";
import { EngineError, invalidArgument, isKind } from "../errdefs/index.js";
import type { Filters, JsonMessage } from "../spec/engine.js";
import type { ImageConfig } from "../spec/oci-image.js";
import { familiarString, parseTaggedReference } from "../spec/reference.js";
import { unmountAll } from "../sys/mount.js";
import type { Logger } from "../util/index.js";
import { stopwatch } from "../util/stopwatch.js";
import { hostArchitecture } from "../images/index.js";
import type { LocalImagesService } from "./images-service.js";
import type { ContainersService } from "./types.js";

/** Stages built at the same time, at most (a 2-core machine gains little from more). */
const STAGE_CONCURRENCY = 2;

export interface BuildOptions {
  /** Path of the Dockerfile inside the context (default "Dockerfile"). */
  dockerfile?: string;
  tags?: string[];
  target?: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  noCache?: boolean;
  pull?: boolean;
  quiet?: boolean;
  /** Remove intermediate containers after a successful step (default true). */
  rm?: boolean;
  /** Remove intermediate containers also after a failed step. */
  forceRm?: boolean;
  cacheFrom?: string[];
  networkMode?: string;
  shmSize?: number;
  memory?: number;
  extraHosts?: string[];
  /** Print the cache key inputs of every step. */
  explain?: boolean;
  /** Berth extension (query berthevents=1): structured {"id":"berth.step","aux":StepEvent} messages instead of the classic text lines. */
  events?: boolean;
  /** URL of a context tar (or of a Dockerfile) to fetch instead of reading the request body. */
  remote?: string;
  /** RUN --mount=type=secret values by id (Berth extension, header X-Berth-Build-Secrets). */
  secrets?: Record<string, Buffer>;
  signal?: AbortSignal;
  /** Called with each step's outcome (for progress displays, tests and the benchmark). */
  onStep?: (r: StepReport) => void;
}

/** Engine API BuildCache (system df, GET /system/df). */
export interface BuildCacheItem {
  ID: string;
  Parents: string[] | null;
  Type: "regular" | "internal" | "frontend" | "source.local" | "source.git.checkout" | "exec.cachemount";
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string | null;
  UsageCount: number;
}

export interface BuildServiceOptions {
  images: LocalImagesService;
  containers: ContainersService;
  dataRoot: string;
  logger: Logger;
  /** Fetches a missing base image (or any with pull=true); without it a missing base is an error. */
  pullImage?: (ref: string, signal?: AbortSignal) => Promise<void>;
}

export class BuildService {
  readonly #o: BuildServiceOptions;
  readonly #root: string;
  readonly #tmp: string;
  readonly #log: Logger;
  #ready: Promise<{ cache: BuildCache; stats: StatCache }> | null = null;

  constructor(opts: BuildServiceOptions) {
    this.#o = opts;
    this.#root = join(opts.dataRoot, "builder");
    this.#tmp = join(this.#root, "tmp");
    this.#log = opts.logger.child({ module: "builder" });
  }

  /** Open the cache and sweep what a crash left behind (mounts, scratch dirs, step snapshots). Idempotent. */
  init(): Promise<{ cache: BuildCache; stats: StatCache }> {
    this.#ready ??= (async () => {
      await mkdir(this.#tmp, { recursive: true, mode: 0o700 });
      for (const name of await readdir(this.#tmp)) {
        const p = join(this.#tmp, name);
        await unmountAll(p).catch((err) => this.#log.warn("unmounting stale build mount", { path: p, err }));
        await rm(p, { recursive: true, force: true }).catch((err) => this.#log.warn("removing stale build dir", { path: p, err }));
      }
      const snap = this.#o.images.snapshotter;
      for await (const s of snap.walk()) {
        if (s.kind !== "committed" && s.name.startsWith("build-")) {
          await snap.remove(s.name).catch((err) => this.#log.warn("removing stale build snapshot", { key: s.name, err }));
        }
      }
      const cache = await BuildCache.open(join(this.#root, "cache"));
      const stats = await StatCache.load(join(this.#root, "context-hashes.json"));
      return { cache, stats };
    })();
    this.#ready.catch(() => { this.#ready = null; });
    return this.#ready;
  }

  /**
   * Build the context (a tar, plain or compressed). Yields Docker's classic-builder messages; a failure
   * is the last message, as {errorDetail, error}. Stopping the iteration cancels the build.
   */
  async *build(context: Readable, opts: BuildOptions = {}): AsyncIterable<JsonMessage> {
    const queue: JsonMessage[] = [];
    let wake: (() => void) | null = null;
    let done = false;
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    if (opts.signal?.aborted) ac.abort();
    opts.signal?.addEventListener("abort", onAbort);
    const push = (m: JsonMessage) => {
      if (opts.quiet && m.stream !== undefined && !m.errorDetail) return;
      queue.push(m);
      wake?.();
    };
    const task = this.#build(context, { ...opts, signal: ac.signal }, push)
      .then((id) => { if (opts.quiet) queue.push({ stream: `${id}\n` }); })
      .catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        const code = err instanceof StepError ? err.code : undefined;
        if (!(err instanceof EngineError)) this.#log.error("build failed", { err });
        queue.push({ errorDetail: { ...(code !== undefined ? { code } : {}), message }, error: message });
      })
      .finally(() => {
        done = true;
        wake?.();
      });
    try {
      for (;;) {
        const m = queue.shift();
        if (m) {
          yield m;
          continue;
        }
        if (done) break;
        await new Promise<void>((r) => { wake = r; });
        wake = null;
      }
    } finally {
      if (!done) ac.abort();
      opts.signal?.removeEventListener("abort", onAbort);
      await task;
    }
  }

  async #build(context: Readable, opts: BuildOptions, emit: (m: JsonMessage) => void): Promise<string> {
    const sw = stopwatch(this.#log, "build");
    const { cache, stats } = await this.init();
    const tags = (opts.tags ?? []).map((t) => {
      try {
        const r = parseTaggedReference(t);
        if (r.digest !== null) throw invalidArgument("refusing to create a tag with a digest reference");
        return r;
      } catch (err) {
        throw invalidArgument(`invalid reference format: ${t}${isKind(err, "invalid-argument") ? "" : ""}`);
      }
    });
    const dfName = (opts.dockerfile || "Dockerfile").replace(/^\.?\/+/, "");
    if (opts.remote) context = await fetchRemoteContext(opts.remote, opts.signal);
    const ctx = await receiveContext(context, {
      tmpRoot: this.#tmp, statCache: stats, keep: [dfName, "dockerfile", ".dockerignore"], ...(opts.signal ? { signal: opts.signal } : {}),
    });
    sw.lap("receive");
    // Saved beside the steps: it is only a cache, and nothing in this build reads it again.
    const statsSaved = stats.save().catch((err) => this.#log.warn("saving context hash cache", { err }));
    try {
      let text = ctx.readText(dfName);
      if (text === null && !opts.dockerfile) text = ctx.readText("dockerfile");
      if (text === null) throw invalidArgument(`Cannot locate specified Dockerfile: ${opts.dockerfile || "Dockerfile"}`);
      const ignore = ctx.readText(".dockerignore");
      if (ignore !== null) ctx.applyIgnore(IgnoreMatcher.fromText(ignore));
      const df = parseDockerfile(text, { file: dfName });
      const buildArgs = opts.buildArgs ?? {};
      const globalArgs = effectiveArgs(df.metaArgs, buildArgs);
      const needed = stagesNeededFor(df, opts.target, { globalArgs });
      const target = opts.target ? df.stages.find((s) => s.name === opts.target!.toLowerCase())! : df.stages[df.stages.length - 1]!;
      const extra: Instruction[] = [];
      const labels = Object.entries(opts.labels ?? {});
      if (labels.length > 0) {
        const line = `LABEL ${labels.map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`).join(" ")}`;
        extra.push(parseDockerfile(`FROM scratch\n${line}\n`).stages[0]!.instructions[0]!);
      }
      const cacheFrom = await this.#cacheSources(opts.cacheFrom ?? [], emit);
      // One failed stage cancels the stages building beside it.
      const stagesAc = new AbortController();
      if (opts.signal?.aborted) stagesAc.abort();
      opts.signal?.addEventListener("abort", () => stagesAc.abort(), { once: true });
      const total = df.metaArgs.length + extra.length + needed.reduce((n, i) => n + 1 + df.stages[i]!.instructions.length, 0);
      const exec = new BuildExecutor(
        { images: this.#o.images, containers: this.#o.containers, cache, tmpRoot: this.#tmp, logger: this.#log, ...(this.#o.pullImage ? { pullImage: this.#o.pullImage } : {}) },
        df, ctx,
        {
          buildArgs, globalArgs, noCache: !!opts.noCache, pull: !!opts.pull, explain: !!opts.explain, events: !!opts.events,
          ...(opts.secrets ? { secrets: opts.secrets } : {}),
          rm: opts.rm ?? true, forceRm: !!opts.forceRm, platform: `linux/${hostArchitecture()}`, cacheFrom,
          ...(opts.networkMode ? { networkMode: opts.networkMode } : {}), ...(opts.shmSize ? { shmSize: opts.shmSize } : {}),
          ...(opts.memory ? { memory: opts.memory } : {}), ...(opts.extraHosts?.length ? { extraHosts: opts.extraHosts } : {}),
          signal: stagesAc.signal,
        },
        (m) => emit(m), total,
      );
      if (opts.onStep) {
        const reports = exec.reports;
        const origPush = reports.push.bind(reports);
        reports.push = (...items: StepReport[]) => {
          for (const r of items) opts.onStep!(r);
          return origPush(...items);
        };
      }
      sw.lap("prepare");
      exec.metaArgSteps();
      let final: string | null = null;
      // Independent stages build at the same time (two at most); their messages come out in stage order.
      const output = new OrderedOutput(needed.length, emit, this.#tmp);
      const firstStep = new Map<number, number>();
      let next = exec.stepsSoFar + 1;
      for (const i of needed) {
        firstStep.set(i, next);
        next += 1 + df.stages[i]!.instructions.length + (i === target.index ? extra.length : 0);
      }
      try {
        await runStages(needed, (i) => stageDependencies(df, i, { globalArgs }), async (i) => {
          const ch = needed.indexOf(i);
          try {
            const r = await exec.runStage(df.stages[i]!, i === target.index ? extra : [], { firstStep: firstStep.get(i)!, emit: (m) => output.emit(ch, m) });
            if (i === target.index) final = r.imageId;
          } finally {
            output.close(ch);
          }
        }, { concurrency: STAGE_CONCURRENCY, abort: () => stagesAc.abort() });
      } finally {
        output.dispose();
      }
      sw.lap("steps");
      if (!final) throw invalidArgument("No image was generated. Is your Dockerfile empty?");
      const unused = unusedBuildArgs(df, buildArgs);
      if (unused.length > 0) emit({ stream: `[Warning] One or more build-args [${unused.join(" ")}] were not consumed\n` });
      emit({ id: "moby.image.id", aux: { ID: final } });
      if (!opts.events) emit({ stream: `Successfully built ${shortHex(final)}\n` });
      for (const t of tags) {
        await this.#o.images.tag(final, familiarString(t));
        emit(opts.events ? { id: "berth.tagged", aux: { name: familiarString(t) } } : { stream: `Successfully tagged ${familiarString(t)}\n` });
      }
      sw.lap("tag");
      sw.done({ files: ctx.stats.files, hashed: ctx.stats.hashed, stepMs: exec.reports.map((r) => `${r.step}:${r.cached ? "c" : "m"}:${r.ms}`).join(",") });
      return final;
    } finally {
      await Promise.all([
        statsSaved,
        ctx.dispose().catch((err) => this.#log.warn("removing build context", { err })),
        cache.flushUsage().catch((err) => this.#log.warn("saving build cache usage", { err })),
      ]);
    }
  }

  /**
   * The --cache-from images. Like Docker, one that is not present is skipped with a warning (a first CI
   * run has no cache image yet); a malformed reference is an error.
   */
  async #cacheSources(refs: readonly string[], emit: (m: JsonMessage) => void): Promise<CacheSource[]> {
    const out: CacheSource[] = [];
    for (const ref of refs) {
      if (!ref) continue;
      try {
        if (!/^(sha256:)?[0-9a-f]{12,64}$/.test(ref)) parseTaggedReference(ref);
      } catch {
        throw invalidArgument(`invalid reference format: cache-from ${ref}`);
      }
      try {
        const { id, config } = await this.#o.images.imageConfig(ref);
        out.push({ ref, id, config });
      } catch (err) {
        if (!isKind(err, "not-found")) throw err;
        emit({ stream: `[Warning] cache-from image ${ref} not found: it is not used as a cache source\n` });
      }
    }
    return out;
  }

  /**
   * Whether an image is one that tagged images and containers are made of: one of them, on their
   * parent chains (the steps that built them), or, for images without a parent record (restored from
   * a --cache-from image), a prefix of one of them by layers and history.
   */
  async #liveImages(): Promise<(id: string) => Promise<boolean>> {
    const all = await this.#o.images.list({ all: true });
    const parentOf = new Map(all.map((i) => [i.Id, i.ParentId]));
    const chained = new Set<string>();
    const roots = new Set<string>();
    const keep = (id: string | undefined) => {
      if (id) roots.add(id);
      for (let cur = id; cur && !chained.has(cur); cur = parentOf.get(cur)) chained.add(cur);
    };
    for (const i of all) {
      const tagged = (i.RepoTags ?? []).some((t) => t !== "<none>:<none>") || (i.RepoDigests ?? []).some((t) => !t.startsWith("<none>"));
      if (tagged || i.Containers > 0) keep(i.Id);
    }
    for (const c of await this.#o.containers.list({ all: true })) keep(c.ImageID);
    const configOf = async (id: string) => (await this.#o.images.imageConfig(id).catch(() => null))?.config ?? null;
    let rootConfigs: ImageConfig[] | null = null;
    return async (id) => {
      if (chained.has(id)) return true;
      const cfg = await configOf(id);
      if (!cfg) return false;
      rootConfigs ??= (await Promise.all([...roots].map(configOf))).filter((c): c is ImageConfig => c !== null);
      return rootConfigs.some((root) => isPrefixImage(cfg, root));
    };
  }

  /**
   * builder prune: drop cache records and the untagged images only they kept. Like Docker, without
   * `all` only dangling records (no tagged image or container is built on their step); with `all`
   * every record; `until` and `id` filters narrow either.
   */
  async prune(opts: { all?: boolean; filters?: Filters } = {}): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
    const { cache } = await this.init();
    for (const k of Object.keys(opts.filters ?? {})) {
      if (k !== "until" && k !== "id") throw invalidArgument(`invalid filter '${k}'`);
    }
    const until = opts.filters?.until?.[0];
    const cutoff = until ? parseUntil(until) : null;
    const ids = opts.filters?.id;
    const before = (await this.#o.images.df()).layersSize;
    const deleted: string[] = [];
    const images = new Set<string>();
    // Without --all only dangling records go: those whose step image no tagged image or container builds on.
    const live = opts.all ? null : await this.#liveImages();
    for (const r of cache.list()) {
      if (live && (await live(r.imageId))) continue;
      if (cutoff !== null && Date.parse(r.lastUsed) >= cutoff) continue;
      if (ids && !ids.some((i) => r.key.startsWith(i))) continue;
      await cache.delete(r.key);
      deleted.push(r.key);
      images.add(r.imageId);
    }
    const remaining = new Set(cache.list().map((r) => r.imageId));
    for (const id of images) {
      if (remaining.has(id)) continue;
      try {
        const info = await this.#o.images.inspect(id);
        if (info.RepoTags.length > 0 || info.RepoDigests.length > 0) continue;
        await this.#o.images.remove(id, {});
      } catch (err) {
        if (!isKind(err, "not-found") && !isKind(err, "conflict")) throw err;
      }
    }
    const after = (await this.#o.images.df()).layersSize;
    return { CachesDeleted: deleted, SpaceReclaimed: Math.max(0, before - after) };
  }

  /** Build cache records for system df. Size is the layer a step added (0 for metadata-only steps). */
  async df(): Promise<BuildCacheItem[]> {
    const { cache } = await this.init();
    const byImage = new Map<string, string>();
    const records = cache.list();
    for (const r of records) byImage.set(r.imageId, r.key);
    const sizeOf = async (id: string) => (id ? await this.#o.images.inspect(id).then((i) => i.Size, () => 0) : 0);
    const out: BuildCacheItem[] = [];
    for (const r of records) {
      const size = Math.max(0, (await sizeOf(r.imageId)) - (await sizeOf(r.parent)));
      const parent = byImage.get(r.parent);
      out.push({
        ID: r.key.slice(0, 25), Parents: parent ? [parent.slice(0, 25)] : null, Type: "regular", Description: r.resolved,
        InUse: false, Shared: false, Size: size, CreatedAt: r.created, LastUsedAt: r.lastUsed, UsageCount: r.usageCount,
      });
    }
    return out;
  }
}

/** `a`'s layers and history begin `b`'s: b was built on a. */
function isPrefixImage(a: ImageConfig, b: ImageConfig): boolean {
  const ad = a.rootfs?.diff_ids ?? [];
  const bd = b.rootfs?.diff_ids ?? [];
  const ah = a.history ?? [];
  const bh = b.history ?? [];
  if (ad.length > bd.length || ah.length > bh.length || ah.length === 0) return false;
  if (!ad.every((d, i) => d === bd[i])) return false;
  return ah.every((h, i) => JSON.stringify(h) === JSON.stringify(bh[i]));
}

function parseUntil(s: string): number {
  const d = /^(\d+(?:\.\d+)?)(h|m|s)$/.exec(s);
  if (d) return Date.now() - Number(d[1]) * ({ h: 3600e3, m: 60e3, s: 1e3 } as const)[d[2] as "h" | "m" | "s"];
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw invalidArgument(`invalid filter 'until=${s}'`);
  return t;
}
