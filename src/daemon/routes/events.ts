import type { EventBus } from "../../services/events.js";
import { isCancelled } from "../error-status.js";
import type { Route } from "../route.js";
import { parseUnixTime } from "./containers.js";

export function eventRoutes(events: EventBus): Route[] {
  return [
    {
      method: "GET", path: "/events",
      async handle(req, res) {
        const since = parseEventTime(req.query.get("since"), "since");
        const until = parseEventTime(req.query.get("until"), "until");
        const it = events.subscribe({
          ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}),
          filters: req.query.filters(), signal: req.signal,
        })[Symbol.asyncIterator]();
        // Validate the filters (a throw here is a 400) before the headers.
        const first = it.next();
        const head = await Promise.race([first, new Promise<null>((r) => setImmediate(() => r(null)))]);
        const out = res.stream("application/json");
        try {
          let r = head ?? await first;
          while (!r.done) {
            if (out.destroyed || out.writableEnded) break;
            out.write(JSON.stringify(r.value) + "\n");
            r = await it.next();
          }
        } catch (err) {
          if (!(req.signal.aborted || isCancelled(err))) throw err;
        } finally {
          await it.return?.();
          if (!out.writableEnded) out.end();
        }
      },
    },
  ];
}

/** Docker accepts unix seconds with an optional fraction for since/until (the CLI converts durations and dates). */
function parseEventTime(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === "") return undefined;
  const n = parseUnixTime(v, name);
  // "0" is the epoch for since (replay everything) and unset for until.
  return n ?? (name === "since" ? 0 : undefined);
}
