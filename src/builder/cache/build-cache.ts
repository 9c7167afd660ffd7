import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { atomicWriteJson, nowRfc3339 } from "../../util/index.js";

/** Everything a step's result depends on, besides the parent image's content (named by its id). */
export interface StepInputs {
  /** Parent image id; "" for an empty (scratch) parent. */
  parent: string;
  kind: string;
  /** The instruction as written (before substitution). */
  instruction: string;
  /** The instruction after substitution (what runs; RUN text is the shell's business). */
  resolved: string;
  /** Values that went into the step: build args in scope for RUN, variables referenced otherwise. */
  vars: Record<string, string>;
  /** Names in vars that are build args (the rest are ENV). */
  argNames: string[];
  /** COPY/ADD: one digest over every selected source path with its metadata and content. */
  sources?: { digest: string; files: [path: string, hash: string][] };
  platform: string;
}

/** A stored step: its inputs (the sources by their digest), its key and the image it produced. */
export interface CacheRecord extends Omit<StepInputs, "sources" | "platform"> {
  key: string;
  sourcesDigest?: string;
  imageId: string;
  created: string;
  lastUsed: string;
  usageCount: number;
}

export function cacheKey(i: StepInputs): string {
  const vars = Object.keys(i.vars).sort().map((k) => [k, i.vars[k]]);
  return createHash("sha256")
    .update(JSON.stringify(["berth-build-v1", i.parent, i.platform, i.kind, i.resolved, vars, i.sources?.digest ?? null]))
    .digest("hex");
}

/** The digest of a COPY/ADD source selection (paths sorted by the caller's order, which must be stable). */
export function sourcesDigest(files: readonly [string, string][]): string {
  const h = createHash("sha256");
  for (const [p, hash] of files) h.update(`${p}\0${hash}\n`);
  return `sha256:${h.digest("hex")}`;
}

/** usage.json: when each record was last used and how often, newer than what its record file says. */
interface UsageFile { v: 1; usage: Record<string, [lastUsed: string, usageCount: number]> }

/**
 * Step cache records under <root>: records/<key>.json (key -> image id, with the inputs kept for
 * explanations), files/<key>.json (the per-file hashes of a COPY/ADD, to name the first changed path)
 * and usage.json (last use and use count of the records a build reused). A record file is written once,
 * when its step completes; reuse only updates memory, and flushUsage() writes usage.json once per build,
 * so a fully cached build writes one small file instead of one per step.
 */
export class BuildCache {
  readonly #records = new Map<string, CacheRecord>();
  readonly #byParent = new Map<string, Set<string>>();
  readonly #byInstruction = new Map<string, Set<string>>();
  /** Keys whose lastUsed/usageCount in memory are newer than on disk. */
  readonly #used = new Set<string>();
  #flushing: Promise<void> = Promise.resolve();

  private constructor(private readonly root: string) {}

  static async open(root: string): Promise<BuildCache> {
    await mkdir(join(root, "records"), { recursive: true });
    await mkdir(join(root, "files"), { recursive: true });
    const c = new BuildCache(root);
    for (const name of await readdir(join(root, "records"))) {
      if (!name.endsWith(".json")) continue;
      try {
        const r = JSON.parse(await readFile(join(root, "records", name), "utf8")) as CacheRecord;
        if (r && typeof r.key === "string" && typeof r.imageId === "string") c.#index(r);
      } catch {
        // a torn or foreign file: not a record
      }
    }
    try {
      const u = JSON.parse(await readFile(join(root, "usage.json"), "utf8")) as UsageFile;
      for (const [key, [lastUsed, usageCount]] of Object.entries(u.v === 1 ? u.usage : {})) {
        const r = c.#records.get(key);
        if (r && typeof lastUsed === "string" && lastUsed > r.lastUsed) c.#records.set(key, { ...r, lastUsed, usageCount });
      }
    } catch {
      // missing or unreadable: the record files' own times stand
    }
    return c;
  }

  #index(r: CacheRecord): void {
    this.#unindex(r.key);
    this.#records.set(r.key, r);
    addTo(this.#byParent, r.parent, r.key);
    addTo(this.#byInstruction, r.instruction, r.key);
  }

  #unindex(key: string): void {
    const old = this.#records.get(key);
    if (!old) return;
    this.#records.delete(key);
    this.#byParent.get(old.parent)?.delete(key);
    this.#byInstruction.get(old.instruction)?.delete(key);
  }

  get(key: string): CacheRecord | undefined {
    return this.#records.get(key);
  }

  list(): CacheRecord[] {
    return [...this.#records.values()];
  }

  /** A record was reused: in memory now, on disk at the next flushUsage(). */
  touch(key: string): void {
    const r = this.#records.get(key);
    if (!r) return;
    this.#records.set(key, { ...r, lastUsed: nowRfc3339(), usageCount: r.usageCount + 1 });
    this.#used.add(key);
  }

  /** Persist the uses recorded since the last flush (one atomic write of usage.json; flushes run one at a time). */
  flushUsage(): Promise<void> {
    const run = async () => {
      if (this.#used.size === 0) return;
      this.#used.clear();
      const usage: UsageFile["usage"] = {};
      for (const r of this.#records.values()) if (r.lastUsed !== r.created) usage[r.key] = [r.lastUsed, r.usageCount];
      await atomicWriteJson(join(this.root, "usage.json"), { v: 1, usage } satisfies UsageFile);
    };
    this.#flushing = this.#flushing.then(run, run);
    return this.#flushing;
  }

  /** Record a completed step. The file list goes first, so a record never names a missing list. */
  async put(key: string, inputs: StepInputs, imageId: string): Promise<CacheRecord> {
    if (inputs.sources) await atomicWriteJson(join(this.root, "files", `${key}.json`), inputs.sources.files);
    const now = nowRfc3339();
    const r: CacheRecord = {
      key, parent: inputs.parent, kind: inputs.kind, instruction: inputs.instruction, resolved: inputs.resolved,
      vars: inputs.vars, argNames: inputs.argNames, imageId, created: now, lastUsed: now, usageCount: 1,
      ...(inputs.sources ? { sourcesDigest: inputs.sources.digest } : {}),
    };
    await atomicWriteJson(join(this.root, "records", `${key}.json`), r);
    this.#index(r);
    return r;
  }

  async delete(key: string): Promise<void> {
    this.#unindex(key);
    await rm(join(this.root, "records", `${key}.json`), { force: true });
    await rm(join(this.root, "files", `${key}.json`), { force: true });
  }

  async #files(key: string): Promise<[string, string][] | null> {
    try {
      return JSON.parse(await readFile(join(this.root, "files", `${key}.json`), "utf8")) as [string, string][];
    } catch {
      return null;
    }
  }

  /**
   * Why a step missed, in one line: the first changed source path, the changed build arg or env
   * value, the changed instruction, a changed parent or base image, or that it never ran before.
   */
  async explain(inputs: StepInputs, ctx: { parentRebuilt: boolean; firstInStage: boolean }): Promise<string> {
    const latest = (keys: Iterable<string> | undefined, pred: (r: CacheRecord) => boolean) => {
      let best: CacheRecord | undefined;
      for (const k of keys ?? []) {
        const r = this.#records.get(k);
        if (r && pred(r) && (!best || r.lastUsed > best.lastUsed)) best = r;
      }
      return best;
    };
    const siblings = this.#byParent.get(inputs.parent);
    const same = latest(siblings, (r) => r.kind === inputs.kind && r.instruction === inputs.instruction);
    if (same) {
      const names = new Set([...Object.keys(same.vars), ...Object.keys(inputs.vars)]);
      for (const n of [...names].sort()) {
        if (same.vars[n] !== inputs.vars[n]) {
          const isArg = inputs.argNames.includes(n) || same.argNames.includes(n);
          return `${isArg ? "build arg" : "env"} ${n} changed`;
        }
      }
      if (inputs.sources && same.sourcesDigest !== inputs.sources.digest) {
        const before = await this.#files(same.key);
        return before ? firstChange(before, inputs.sources.files) : "source files changed";
      }
      if (same.resolved !== inputs.resolved) return "instruction changed after substitution";
      return "the cached image is gone";
    }
    if (ctx.parentRebuilt) return "parent changed";
    const other = latest(siblings, (r) => r.kind === inputs.kind);
    if (other) return `instruction changed (was: ${other.instruction})`;
    if (ctx.firstInStage && latest(this.#byInstruction.get(inputs.instruction), (r) => r.parent !== inputs.parent)) {
      return "base image changed";
    }
    if (latest(this.#byInstruction.get(inputs.instruction), (r) => r.parent !== inputs.parent)) return "parent changed";
    return "no earlier build";
  }
}

function addTo(m: Map<string, Set<string>>, k: string, v: string): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}

/** The first path (in order) that differs between two source lists: changed, added or removed. */
export function firstChange(before: readonly [string, string][], after: readonly [string, string][]): string {
  const old = new Map(before);
  const now = new Map(after);
  for (const [p, h] of after) {
    const o = old.get(p);
    if (o === undefined) return `${p} added`;
    if (o !== h) return `${p} changed`;
  }
  for (const [p] of before) if (!now.has(p)) return `${p} removed`;
  return "source files changed";
}
