import { invalidArgument } from "../errdefs/index.js";
import type { Filters } from "../spec/engine.js";
import type { ContainersService, ImagesService } from "./types.js";

export type EventType = "container" | "image" | "network" | "volume" | "daemon" | "plugin" | "service" | "node" | "secret" | "config";

/** Docker's events message (api/types/events.Message), including the legacy status/id/from fields. */
export interface EngineEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: "local";
  time: number;
  timeNano: number;
  status?: string;
  id?: string;
  from?: string;
}

export interface SubscribeOptions {
  /** Unix seconds (fractional); replay buffered events from then on. */
  since?: number;
  /** Unix seconds; stop at that time (at once when it lies in the past). */
  until?: number;
  filters?: Filters;
  signal?: AbortSignal;
}

const FILTER_KEYS = new Set(["type", "event", "container", "image", "label", "network", "volume", "daemon", "plugin", "scope", "node", "service", "secret", "config"]);

/** The daemon's event stream: live fan-out plus a bounded ring of recent events for since/until replays. */
export class EventBus {
  readonly #ring: EngineEvent[] = [];
  readonly #subs = new Set<(e: EngineEvent) => void>();
  #lastNano = 0;

  constructor(readonly capacity = 1000) {}

  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    let nano = Date.now() * 1e6;
    // Keep times strictly increasing so since/until replays never reorder or drop same-millisecond events.
    if (nano <= this.#lastNano) nano = this.#lastNano + 1000;
    this.#lastNano = nano;
    const e: EngineEvent = { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: "local", time: Math.floor(nano / 1e9), timeNano: nano };
    if (type === "container") {
      e.status = action;
      e.id = id;
      if (attributes.image) e.from = attributes.image;
    } else if (type === "image") {
      e.status = action;
      e.id = id;
    }
    this.#ring.push(e);
    if (this.#ring.length > this.capacity) this.#ring.splice(0, this.#ring.length - this.capacity);
    for (const s of this.#subs) s(e);
    return e;
  }

  /** Buffered events in [since, until] then, unless until has passed, live ones until until or the signal. */
  async *subscribe(opts: SubscribeOptions = {}): AsyncIterable<EngineEvent> {
    const filters = opts.filters ?? {};
    for (const k of Object.keys(filters)) if (!FILTER_KEYS.has(k)) throw invalidArgument(`invalid filter '${k}'`);
    const match = (e: EngineEvent) => matches(e, filters);
    const sinceNs = opts.since !== undefined ? opts.since * 1e9 : undefined;
    const untilNs = opts.until !== undefined ? opts.until * 1e9 : undefined;
    const queue: EngineEvent[] = [];
    let wake: (() => void) | null = null;
    const sub = (e: EngineEvent) => {
      queue.push(e);
      wake?.();
    };
    // Subscribe before replaying so nothing published in between is lost.
    this.#subs.add(sub);
    const onAbort = () => wake?.();
    opts.signal?.addEventListener("abort", onAbort);
    let timer: NodeJS.Timeout | null = null;
    let timedOut = false;
    try {
      let lastReplayed = 0;
      if (sinceNs !== undefined) {
        for (const e of [...this.#ring]) {
          if (e.timeNano < sinceNs || (untilNs !== undefined && e.timeNano > untilNs)) continue;
          lastReplayed = e.timeNano;
          if (match(e)) yield e;
        }
      }
      if (untilNs !== undefined) {
        const wait = untilNs / 1e6 - Date.now();
        if (wait <= 0) {
          for (const e of queue) if (e.timeNano > lastReplayed && e.timeNano <= untilNs && match(e)) yield e;
          return;
        }
        timer = setTimeout(() => { timedOut = true; wake?.(); }, wait);
      }
      while (!opts.signal?.aborted && !timedOut) {
        while (queue.length) {
          const e = queue.shift()!;
          if (e.timeNano <= lastReplayed) continue;
          if (untilNs !== undefined && e.timeNano > untilNs) return;
          if (match(e)) yield e;
        }
        await new Promise<void>((r) => { wake = r; });
        wake = null;
      }
    } finally {
      if (timer) clearTimeout(timer);
      this.#subs.delete(sub);
      opts.signal?.removeEventListener("abort", onAbort);
    }
  }
}

/** Docker's event filter semantics: OR within a key, AND across keys. */
export function matches(e: EngineEvent, f: Filters): boolean {
  const any = (key: string, test: (v: string) => boolean) => !f[key]?.length || f[key]!.some(test);
  const attrs = e.Actor.Attributes;
  if (!any("type", (v) => v === e.Type)) return false;
  if (!any("event", (v) => e.Action === v || e.Action.startsWith(`${v}:`))) return false;
  if (!any("scope", (v) => v === e.scope)) return false;
  if (!any("container", (v) => e.Type === "container" && (e.Actor.ID === v || e.Actor.ID.startsWith(v) || attrs.name === v || attrs.container === v))) {
    // exec events are container events too; a container filter on any other type never matches.
    return false;
  }
  if (!any("image", (v) => {
    const img = e.Type === "image" ? (attrs.name ?? e.Actor.ID) : (attrs.image ?? "");
    return img === v || e.Actor.ID === v || img.split(":")[0] === v || (e.Type === "image" && e.Actor.ID.replace(/^sha256:/, "").startsWith(v.replace(/^sha256:/, "")));
  })) return false;
  if (!any("label", (v) => {
    const i = v.indexOf("=");
    return i < 0 ? v in attrs : attrs[v.slice(0, i)] === v.slice(i + 1);
  })) return false;
  if (!any("network", (v) => e.Type === "network" && (e.Actor.ID === v || attrs.name === v))) return false;
  if (!any("volume", (v) => e.Type === "volume" && e.Actor.ID === v)) return false;
  return true;
}

/**
 * The containers service with events: each successful call publishes Docker's action, and a watcher per
 * started container publishes "die" with its exit code (restart-policy restarts keep it watching).
 */
export function withContainerEvents(inner: ContainersService, bus: EventBus): ContainersService {
  const watching = new Set<string>();
  const destroyed = new Set<string>();
  const destroy = (id: string, a: Record<string, string>) => {
    if (destroyed.has(id)) return;
    destroyed.add(id);
    bus.publish("container", "destroy", id, a);
  };
  const attrs = async (id: string, extra: Record<string, string> = {}): Promise<{ id: string; a: Record<string, string> }> => {
    const c = await inner.inspect(id);
    return { id: c.Id, a: { ...(c.Config?.Labels ?? {}), image: c.Config?.Image ?? c.Image, name: c.Name.replace(/^\//, ""), ...extra } };
  };
  const emit = async (action: string, ref: string, extra: Record<string, string> = {}) => {
    try {
      const { id, a } = await attrs(ref, extra);
      bus.publish("container", action, id, a);
    } catch { /* gone already: nothing to describe */ }
  };
  /** started: resolves once "start" is published, so a container that exits at once still reads start, then die. */
  const watch = (id: string, snapshot?: { id: string; a: Record<string, string> }, started: Promise<void> = Promise.resolve()) => {
    if (watching.has(id)) return;
    watching.add(id);
    void (async () => {
      let known = snapshot ?? await attrs(id).catch(() => null);
      try {
        for (;;) {
          if (!known) return;
          const r = await inner.wait(id, "next-exit");
          await started;
          bus.publish("container", "die", known.id, { ...known.a, exitCode: String(r.StatusCode) });
          const c = await inner.inspect(id).catch(() => null);
          // --rm: the service removes the container itself, so no API call reports the destroy.
          if (!c || c.HostConfig.AutoRemove) {
            if (c) await inner.wait(id, "removed").catch(() => null);
            destroy(known.id, known.a);
            return;
          }
          if (c.State.Status !== "restarting" && c.State.Status !== "running") return;
          known = await attrs(id).catch(() => null);
        }
      } catch { /* removed */ } finally {
        watching.delete(id);
      }
    })();
  };
  const hooks: Partial<ContainersService> = {
    async create(body, opts) {
      const r = await inner.create(body, opts);
      await emit("create", r.Id);
      return r;
    },
    async start(id) {
      const before = await attrs(id).catch(() => null);
      let published!: () => void;
      const started = new Promise<void>((r) => { published = r; });
      if (before) watch(before.id, before, started);
      try {
        await inner.start(id);
        // From what was read before: the reply must not wait for another inspect.
        if (before) bus.publish("container", "start", before.id, before.a);
      } finally {
        published();
      }
    },
    async stop(id, opts) {
      await inner.stop(id, opts);
      await emit("stop", id);
    },
    async restart(id, opts) {
      const before = await attrs(id).catch(() => null);
      if (before) watch(before.id, before);
      await inner.restart(id, opts);
      await emit("start", id);
      await emit("restart", id);
    },
    async kill(id, signal) {
      await inner.kill(id, signal);
      await emit("kill", id, { signal: String(signalNumber(signal)) });
    },
    async pause(id) {
      await inner.pause(id);
      await emit("pause", id);
    },
    async unpause(id) {
      await inner.unpause(id);
      await emit("unpause", id);
    },
    async remove(id, opts) {
      const before = await attrs(id).catch(() => null);
      await inner.remove(id, opts);
      if (before) destroy(before.id, before.a);
    },
    async rename(id, newName) {
      const before = await attrs(id).catch(() => null);
      await inner.rename(id, newName);
      await emit("rename", id, before ? { oldName: `/${before.a.name}` } : {});
    },
    attach(id, opts) {
      void emit("attach", id);
      return inner.attach(id, opts);
    },
  };
  // Containers already running (adopted after a daemon restart) still report their exit.
  if (typeof inner.list === "function") {
    void Promise.resolve().then(() => inner.list({})).then((cs) => { for (const c of cs) watch(c.Id); }, () => {});
  }
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const hook = (hooks as Record<PropertyKey, unknown>)[prop];
      if (hook) return hook;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** The images service with tag/untag/delete/import/load events. */
export function withImageEvents(inner: ImagesService, bus: EventBus): ImagesService {
  const hooks: Partial<ImagesService> = {
    async tag(ref, repo, tag) {
      await inner.tag(ref, repo, tag);
      const img = await inner.inspect(ref).catch(() => null);
      const name = tag ? `${repo}:${tag}` : repo.includes(":") ? repo : `${repo}:latest`;
      if (img) bus.publish("image", "tag", img.Id, { name });
    },
    async remove(ref, opts) {
      const items = await inner.remove(ref, opts);
      for (const it of items) {
        if ("Untagged" in it) bus.publish("image", "untag", it.Untagged, { name: it.Untagged });
        if ("Deleted" in it) bus.publish("image", "delete", it.Deleted, { name: it.Deleted });
      }
      return items;
    },
    async import(src, opts) {
      const id = await inner.import(src, opts);
      bus.publish("image", "import", id, { name: opts.repo ? `${opts.repo}:${opts.tag || "latest"}` : id });
      return id;
    },
    load(src, opts) {
      return (async function* () {
        for await (const m of inner.load(src, opts)) {
          const s = typeof m.stream === "string" ? m.stream : "";
          const hit = /Loaded image(?: ID)?: (\S+)/.exec(s);
          if (hit) bus.publish("image", "load", hit[1]!, { name: hit[1]! });
          yield m;
        }
      })();
    },
  };
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const hook = (hooks as Record<PropertyKey, unknown>)[prop];
      if (hook) return hook;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15,
  STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, PWR: 30, SYS: 31,
};

function signalNumber(sig: string | undefined): number {
  if (!sig) return 9;
  if (/^\d+$/.test(sig)) return Number(sig);
  return SIGNALS[sig.toUpperCase().replace(/^SIG/, "")] ?? 9;
}
