import { invalidArgument } from "../errdefs/index.js";
import type { Health, HealthcheckResult, HealthConfig, HealthOnFailure } from "../spec/engine.js";

/** Docker's defaults (daemon/health.go). */
export const HEALTH_DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3 } as const;
export const MAX_LOG_ENTRIES = 5;
export const MAX_OUTPUT_BYTES = 4096;

const NS_PER_MS = 1e6;

/** A healthcheck with every default filled in; cmd is the full argv to exec. */
export interface HealthSettings {
  cmd: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

/** The probe a config asks for; null when there is none (no config, an empty Test, NONE, or an unknown type). */
export function healthSettings(cfg: HealthConfig | null | undefined, shell?: string[] | null): HealthSettings | null {
  const test = cfg?.Test;
  if (!cfg || !test?.length) return null;
  let cmd: string[];
  if (test[0] === "CMD") cmd = test.slice(1);
  else if (test[0] === "CMD-SHELL") cmd = [...(shell?.length ? shell : ["/bin/sh", "-c"]), ...test.slice(1)];
  else return null;
  const ms = (ns: number | undefined, dflt: number) => (ns ? ns / NS_PER_MS : dflt);
  return {
    cmd,
    intervalMs: ms(cfg.Interval, HEALTH_DEFAULTS.intervalMs),
    timeoutMs: ms(cfg.Timeout, HEALTH_DEFAULTS.timeoutMs),
    startPeriodMs: ms(cfg.StartPeriod, HEALTH_DEFAULTS.startPeriodMs),
    startIntervalMs: ms(cfg.StartInterval, HEALTH_DEFAULTS.startIntervalMs),
    retries: cfg.Retries && cfg.Retries > 0 ? cfg.Retries : HEALTH_DEFAULTS.retries,
  };
}

/** The daemon's create-time checks (daemon/container.go verifyContainerSettings). */
export function validateHealthConfig(cfg: HealthConfig | null | undefined): void {
  if (!cfg) return;
  const tooShort = (v: number | undefined) => v !== undefined && v !== 0 && v < NS_PER_MS;
  if (tooShort(cfg.Interval)) throw invalidArgument("Interval in Healthcheck cannot be less than 1ms");
  if (tooShort(cfg.Timeout)) throw invalidArgument("Timeout in Healthcheck cannot be less than 1ms");
  if ((cfg.Retries ?? 0) < 0) throw invalidArgument("Retries in Healthcheck cannot be negative");
  if (tooShort(cfg.StartPeriod)) throw invalidArgument("StartPeriod in Healthcheck cannot be less than 1ms");
  if (tooShort(cfg.StartInterval)) throw invalidArgument("StartInterval in Healthcheck cannot be less than 1ms");
}

const ON_FAILURE: readonly string[] = ["none", "kill", "restart", "stop"];

export function validateHealthOnFailure(v: unknown): asserts v is HealthOnFailure | "" | undefined | null {
  if (v === undefined || v === null || v === "") return;
  if (typeof v !== "string" || !ON_FAILURE.includes(v)) {
    throw invalidArgument(`invalid health on failure action: '${String(v)}'; use one of 'none', 'kill', 'restart', or 'stop'`);
  }
}

/** State.Health as a (re)started container begins: starting, no failures, the old log kept (as Docker does). */
export function startingHealth(prev: Health | null | undefined): Health {
  return { Status: "starting", FailingStreak: 0, Log: prev?.Log ? [...prev.Log] : [] };
}

/**
 * Docker's handleProbeResult: exit 0 is healthy; any other result is a failure that counts towards
 * `retries`, except while still starting inside the start period.
 */
export function recordResult(h: Health, r: HealthcheckResult, o: { retries: number; startPeriodMs: number; startedAtMs: number }): Health {
  const log = [...h.Log, r].slice(-MAX_LOG_ENTRIES);
  if (r.ExitCode === 0) return { Status: "healthy", FailingStreak: 0, Log: log };
  const inStartPeriod = h.Status === "starting" && Date.parse(r.Start) - o.startedAtMs < o.startPeriodMs;
  if (inStartPeriod) return { ...h, Log: log };
  const streak = h.FailingStreak + 1;
  return { Status: streak >= o.retries ? "unhealthy" : h.Status, FailingStreak: streak, Log: log };
}

/** Time to the next probe: the start interval while starting inside the start period, else the interval. */
export function nextDelay(s: HealthSettings, status: Health["Status"], startedAtMs: number, nowMs: number): number {
  if (nowMs - startedAtMs >= s.startPeriodMs) return s.intervalMs;
  return status === "starting" ? s.startIntervalMs : s.intervalMs;
}

/** Go's time.Duration String() for whole milliseconds ("500ms", "1.5s", "1m30s", "1h0m0s"). */
export function goDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, "")}s`;
  if (h) return `${h}h${m}m${sec}`;
  if (m) return `${m}m${sec}`;
  return sec;
}

/** What one probe run yields. It resolves even when aborted (with what the process printed so far). */
export interface ProbeOutcome {
  exitCode: number;
  output: string;
}

/** Runs the check once. Calls started() when the process runs (the timeout counts from then); rejects when it could not run. */
export type HealthProbe = (o: { signal: AbortSignal; started: () => void }) => Promise<ProbeOutcome>;

export interface HealthTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: HealthTimers = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
};

export interface HealthMonitorOptions {
  settings: HealthSettings;
  startedAtMs: number;
  health: Health;
  probe: HealthProbe;
  timers?: HealthTimers;
  /** After each recorded result, with the status before it. Not awaited. */
  onResult(health: Health, previous: Health["Status"]): void;
}

/** One container's probe loop: at most one probe at a time, the next scheduled after the previous ends. */
export class HealthMonitor {
  readonly #o: HealthMonitorOptions;
  readonly #timers: HealthTimers;
  #health: Health;
  #timer: unknown = null;
  #probing: { abort: AbortController; done: Promise<void> } | null = null;
  #stopped = true;
  #generation = 0;

  constructor(o: HealthMonitorOptions) {
    this.#o = o;
    this.#timers = o.timers ?? realTimers;
    this.#health = o.health;
  }

  get health(): Health {
    return this.#health;
  }

  get running(): boolean {
    return !this.#stopped;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule();
  }

  /** Stops the loop; a probe under way is killed and its result dropped. Resolves once it has ended. */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#generation++;
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
    const p = this.#probing;
    if (!p) return Promise.resolve();
    p.abort.abort();
    return p.done;
  }

  #schedule(): void {
    if (this.#stopped || this.#timer !== null || this.#probing) return;
    const s = this.#o.settings;
    const delay = nextDelay(s, this.#health.Status, this.#o.startedAtMs, this.#timers.now());
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      const abort = new AbortController();
      const done = this.#runOnce(abort).finally(() => {
        this.#probing = null;
        this.#schedule();
      });
      this.#probing = { abort, done };
    }, delay);
  }

  async #runOnce(abort: AbortController): Promise<void> {
    const s = this.#o.settings;
    const generation = this.#generation;
    const start = this.#timers.now();
    let timer: unknown = null;
    let timedOut = false;
    const started = () => {
      if (timer !== null || abort.signal.aborted) return;
      timer = this.#timers.setTimeout(() => { timedOut = true; abort.abort(); }, s.timeoutMs);
    };
    let exitCode: number;
    let output: string;
    try {
      const r = await this.#o.probe({ signal: abort.signal, started });
      exitCode = r.exitCode;
      output = r.output;
    } catch (err) {
      exitCode = -1;
      output = err instanceof Error ? err.message : String(err);
    } finally {
      if (timer !== null) this.#timers.clearTimeout(timer);
    }
    if (this.#stopped || generation !== this.#generation) return;
    if (timedOut) {
      const limit = goDuration(s.timeoutMs);
      output = output ? `Health check exceeded timeout (${limit}): ${output}` : `Health check exceeded timeout (${limit})`;
      exitCode = -1;
    }
    const result: HealthcheckResult = {
      Start: new Date(start).toISOString(), End: new Date(this.#timers.now()).toISOString(), ExitCode: exitCode, Output: output,
    };
    const previous = this.#health.Status;
    this.#health = recordResult(this.#health, result, { retries: s.retries, startPeriodMs: s.startPeriodMs, startedAtMs: this.#o.startedAtMs });
    this.#o.onResult(this.#health, previous);
  }
}
