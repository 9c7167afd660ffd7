import { invalidArgument } from "../errdefs/index.js";
import type { Filters } from "../spec/engine.js";

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

/** What services publish to: Docker's event type, action, actor id and actor attributes. */
export interface EventSink {
  publish(type: EventType, action: string, id: string, attributes?: Record<string, string>): void;
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
export class EventBus implements EventSink {
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
