import { isCgroupV2 } from "../sys/cgroups.js";
import { emptyStats, readCgroupStats, type ContainerStats } from "./stats.js";

/** What the sampler needs to know of a container; lookup throws not-found for a removed one. */
export interface StatsTarget { id: string; name: string; cgroupsPath: string; pid: number; running: boolean }

interface Feed {
  subs: Set<(s: ContainerStats | null) => void>;
  timer: NodeJS.Timeout | null;
  last: ContainerStats | null;
}

const INTERVAL_MS = 1000;
const PRE_SAMPLE_MS = 100;

/** Container stats from cgroups: one shared 1 s sampler per streamed container, however many clients watch it. */
export class StatsSampler {
  readonly #feeds = new Map<string, Feed>();
  #v2: Promise<boolean> | null = null;

  constructor(private readonly lookup: (ref: string) => Promise<StatsTarget>) {}

  async #read(t: StatsTarget, pre: ContainerStats | null): Promise<ContainerStats> {
    if (!t.running) return emptyStats(t.id, t.name);
    this.#v2 ??= isCgroupV2();
    const s = await readCgroupStats({ id: t.id, name: t.name, cgroupsPath: t.cgroupsPath, pid: t.pid, v2: await this.#v2 });
    if (pre && pre.read !== emptyStats("", "").read) {
      s.precpu_stats = pre.cpu_stats;
      s.preread = pre.read;
    }
    return s;
  }

  /** one-shot=true: a single reading, no precpu. */
  async oneShot(ref: string): Promise<ContainerStats> {
    return this.#read(await this.lookup(ref), null);
  }

  /** stream=false: one reading with precpu from the shared feed, or from a short pre-sample. */
  async once(ref: string): Promise<ContainerStats> {
    const t = await this.lookup(ref);
    if (!t.running) return emptyStats(t.id, t.name);
    const feed = this.#feeds.get(t.id);
    let pre = feed?.last && Date.now() - Date.parse(feed.last.read) < 2 * INTERVAL_MS ? feed.last : null;
    if (!pre) {
      pre = await this.#read(t, null);
      await new Promise((r) => setTimeout(r, PRE_SAMPLE_MS));
    }
    return this.#read(t, pre);
  }

  /** Readings every second until the signal aborts or the container is removed. */
  async *stream(ref: string, signal?: AbortSignal): AsyncIterable<ContainerStats> {
    const t = await this.lookup(ref);
    const id = t.id;
    const queue: (ContainerStats | null)[] = [];
    let wake: (() => void) | null = null;
    const sub = (s: ContainerStats | null) => { queue.push(s); wake?.(); };
    let feed = this.#feeds.get(id);
    if (!feed) {
      feed = { subs: new Set(), timer: null, last: null };
      this.#feeds.set(id, feed);
    }
    feed.subs.add(sub);
    const onAbort = () => wake?.();
    signal?.addEventListener("abort", onAbort);
    try {
      // The first reading at once (with precpu when the feed already has one), then the shared ticks.
      const first = await this.#read(t, feed.last);
      if (t.running && !feed.last) feed.last = first;
      yield first;
      if (!feed.timer) this.#tick(ref, id, feed);
      while (!signal?.aborted) {
        while (queue.length) {
          const s = queue.shift()!;
          if (s === null) return;
          yield s;
        }
        await new Promise<void>((r) => { wake = r; });
        wake = null;
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      feed.subs.delete(sub);
      if (!feed.subs.size) {
        if (feed.timer) clearTimeout(feed.timer);
        this.#feeds.delete(id);
      }
    }
  }

  #tick(ref: string, id: string, feed: Feed): void {
    feed.timer = setTimeout(() => {
      void (async () => {
        let s: ContainerStats | null;
        try {
          const t = await this.lookup(id);
          s = await this.#read(t, feed.last);
          feed.last = t.running ? s : null;
        } catch {
          s = null;   // removed: the streams end
        }
        for (const sub of feed.subs) sub(s);
        if (s && feed.subs.size && this.#feeds.get(id) === feed) this.#tick(ref, id, feed);
        else feed.timer = null;
      })();
    }, INTERVAL_MS);
    feed.timer.unref();
  }
}
