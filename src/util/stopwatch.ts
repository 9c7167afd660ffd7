import { performance } from "node:perf_hooks";
import type { Logger } from "./logger.js";

export interface Stopwatch {
  /** Record the time since the previous lap (or the start) under name. */
  lap(name: string): void;
  /** Record the time since the start under `at-<name>`, leaving the laps alone (for work running alongside them). */
  at(name: string): void;
  /** Log every lap and the total as one debug line: `span <what> total=.. <lap>=..` (ms). */
  done(fields?: Record<string, unknown>): void;
}

/** Daemon-side timing spans for the hot paths, at debug level; costs nothing measurable when off. */
export function stopwatch(log: Logger, what: string): Stopwatch {
  const t0 = performance.now();
  let last = t0;
  const laps: Record<string, string> = {};
  return {
    lap(name) {
      const now = performance.now();
      laps[name] = (now - last).toFixed(1);
      last = now;
    },
    at(name) {
      laps[`at-${name}`] = (performance.now() - t0).toFixed(1);
    },
    done(fields) {
      log.debug(`span ${what}`, { ...fields, total: (performance.now() - t0).toFixed(1), ...laps });
    },
  };
}
