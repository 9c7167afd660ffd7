import assert from "node:assert/strict";
import { test } from "node:test";
import type { Health } from "../spec/engine.js";
import {
  goDuration, healthSettings, HealthMonitor, nextDelay, recordResult, startingHealth, validateHealthConfig, validateHealthOnFailure,
  type HealthProbe, type HealthSettings, type HealthTimers, type ProbeOutcome,
} from "./health-monitor.js";

/** A clock that only moves when told to; due timers fire in order, with pending promises settled in between. */
class FakeTimers implements HealthTimers {
  t = 1_700_000_000_000;
  #next = 1;
  #timers = new Map<number, { at: number; fn: () => void }>();
  now(): number { return this.t; }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void { this.#timers.delete(h as number); }
  get pending(): number { return this.#timers.size; }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = [...this.#timers.entries()].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}

const NS = 1e6;

function settings(o: Partial<HealthSettings> = {}): HealthSettings {
  return { cmd: ["true"], intervalMs: 1000, timeoutMs: 500, startPeriodMs: 0, startIntervalMs: 200, retries: 3, ...o };
}

/** A probe answering from a script of outcomes ("hang" never finishes until aborted). */
function scripted(outcomes: (ProbeOutcome | "hang" | Error)[], timers: FakeTimers, calls: number[]): HealthProbe {
  return async ({ signal, started }) => {
    calls.push(timers.now());
    const next = outcomes.shift() ?? { exitCode: 0, output: "" };
    started();
    if (next instanceof Error) throw next;
    if (next === "hang") {
      await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
      return { exitCode: 137, output: "partial" };
    }
    return next;
  };
}

function monitor(timers: FakeTimers, s: HealthSettings, probe: HealthProbe, seen: { health: Health; previous: string }[]): HealthMonitor {
  return new HealthMonitor({
    settings: s, startedAtMs: timers.now(), health: startingHealth(null), probe, timers,
    onResult: (health, previous) => seen.push({ health, previous }),
  });
}

test("healthSettings: Docker's defaults, CMD vs CMD-SHELL, NONE and unknown types give no probe", () => {
  assert.equal(healthSettings(undefined), null);
  assert.equal(healthSettings({ Test: [] }), null);
  assert.equal(healthSettings({ Test: ["NONE"] }), null);
  assert.equal(healthSettings({ Test: ["BOGUS", "x"] }), null);
  assert.deepEqual(healthSettings({ Test: ["CMD", "cat", "/x"] }), {
    cmd: ["cat", "/x"], intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3,
  });
  assert.deepEqual(healthSettings({ Test: ["CMD-SHELL", "test -f /ok"], Interval: 200 * NS, Retries: 2 })?.cmd, ["/bin/sh", "-c", "test -f /ok"]);
  assert.deepEqual(healthSettings({ Test: ["CMD-SHELL", "x"] }, ["/bin/ash", "-ec"])?.cmd, ["/bin/ash", "-ec", "x"]);
  const s = healthSettings({ Test: ["CMD", "x"], Interval: 200 * NS, Timeout: 1000 * NS, StartPeriod: 3000 * NS, StartInterval: 100 * NS, Retries: 5 });
  assert.deepEqual(s, { cmd: ["x"], intervalMs: 200, timeoutMs: 1000, startPeriodMs: 3000, startIntervalMs: 100, retries: 5 });
});

test("validateHealthConfig and validateHealthOnFailure use Docker's wording", () => {
  validateHealthConfig({ Test: ["CMD", "x"], Interval: 0, Timeout: NS });
  assert.throws(() => validateHealthConfig({ Interval: 10 }), /^EngineError: Interval in Healthcheck cannot be less than 1ms$/);
  assert.throws(() => validateHealthConfig({ Timeout: -NS }), /Timeout in Healthcheck cannot be less than 1ms/);
  assert.throws(() => validateHealthConfig({ Retries: -1 }), /Retries in Healthcheck cannot be negative/);
  assert.throws(() => validateHealthConfig({ StartPeriod: 5 }), /StartPeriod in Healthcheck cannot be less than 1ms/);
  assert.throws(() => validateHealthConfig({ StartInterval: 5 }), /StartInterval in Healthcheck cannot be less than 1ms/);
  for (const ok of [undefined, "", "none", "kill", "restart", "stop"]) validateHealthOnFailure(ok);
  assert.throws(() => validateHealthOnFailure("explode"), (e: Error & { kind?: string }) => e.kind === "invalid-argument" && /'explode'/.test(e.message));
});

test("recordResult: success heals, retries failures make unhealthy, the log keeps the last five", () => {
  const o = { retries: 2, startPeriodMs: 0, startedAtMs: 0 };
  const r = (code: number, i: number) => ({ Start: new Date(1000 + i).toISOString(), End: new Date(1001 + i).toISOString(), ExitCode: code, Output: `#${i}` });
  let h = startingHealth(null);
  h = recordResult(h, r(1, 0), o);
  assert.deepEqual([h.Status, h.FailingStreak], ["starting", 1]);
  h = recordResult(h, r(0, 1), o);
  assert.deepEqual([h.Status, h.FailingStreak], ["healthy", 0]);
  h = recordResult(h, r(1, 2), o);
  assert.deepEqual([h.Status, h.FailingStreak], ["healthy", 1]);
  h = recordResult(h, r(-1, 3), o);
  assert.deepEqual([h.Status, h.FailingStreak], ["unhealthy", 2]);
  h = recordResult(h, r(2, 4), o);
  h = recordResult(h, r(1, 5), o);
  assert.deepEqual([h.Status, h.FailingStreak], ["unhealthy", 4]);
  assert.deepEqual(h.Log.map((l) => l.Output), ["#1", "#2", "#3", "#4", "#5"]);
  assert.deepEqual(startingHealth(h), { Status: "starting", FailingStreak: 0, Log: h.Log });
});

test("recordResult: failures inside the start period do not count while starting, but do once healthy", () => {
  const o = { retries: 1, startPeriodMs: 5000, startedAtMs: Date.parse("2030-01-01T00:00:00Z") };
  const at = (s: number, code: number) => ({ Start: new Date(o.startedAtMs + s * 1000).toISOString(), End: "", ExitCode: code, Output: "" });
  let h = recordResult(startingHealth(null), at(1, 1), o);
  assert.deepEqual([h.Status, h.FailingStreak, h.Log.length], ["starting", 0, 1]);
  h = recordResult(h, at(6, 1), o);
  assert.deepEqual([h.Status, h.FailingStreak], ["unhealthy", 1]);
  h = recordResult(recordResult(startingHealth(null), at(1, 0), o), at(2, 1), o);
  assert.deepEqual([h.Status, h.FailingStreak], ["unhealthy", 1]);
});

test("nextDelay: start interval only while starting inside the start period", () => {
  const s = settings({ intervalMs: 1000, startPeriodMs: 3000, startIntervalMs: 100 });
  assert.equal(nextDelay(s, "starting", 0, 500), 100);
  assert.equal(nextDelay(s, "healthy", 0, 500), 1000);
  assert.equal(nextDelay(s, "starting", 0, 3000), 1000);
  assert.equal(nextDelay(settings({ startPeriodMs: 0 }), "starting", 0, 0), 1000);
});

test("goDuration prints like Go's time.Duration", () => {
  assert.deepEqual([0, 1, 500, 1000, 1500, 30_000, 90_000, 3_600_000, 3_723_250].map(goDuration),
    ["0s", "1ms", "500ms", "1s", "1.5s", "30s", "1m30s", "1h0m0s", "1h2m3.25s"]);
});

test("HealthMonitor: first probe after the interval, then one interval after each probe ends", async () => {
  const timers = new FakeTimers();
  const calls: number[] = [];
  const seen: { health: Health; previous: string }[] = [];
  const t0 = timers.now();
  const m = monitor(timers, settings({ intervalMs: 1000 }), scripted([{ exitCode: 0, output: "ok\n" }, { exitCode: 1, output: "" }], timers, calls), seen);
  m.start();
  await timers.advance(999);
  assert.equal(calls.length, 0);
  await timers.advance(1);
  assert.deepEqual(calls.map((c) => c - t0), [1000]);
  assert.equal(seen.length, 1);
  assert.deepEqual([seen[0]!.previous, seen[0]!.health.Status], ["starting", "healthy"]);
  assert.deepEqual(seen[0]!.health.Log[0], { Start: new Date(t0 + 1000).toISOString(), End: new Date(t0 + 1000).toISOString(), ExitCode: 0, Output: "ok\n" });
  await timers.advance(1000);
  assert.deepEqual(calls.map((c) => c - t0), [1000, 2000]);
  assert.deepEqual([m.health.Status, m.health.FailingStreak], ["healthy", 1]);
  await m.stop();
  assert.equal(timers.pending, 0);
  await timers.advance(5000);
  assert.equal(calls.length, 2);
});

test("HealthMonitor: start interval while starting, then the normal interval", async () => {
  const timers = new FakeTimers();
  const calls: number[] = [];
  const t0 = timers.now();
  const fail = { exitCode: 1, output: "no" };
  const m = monitor(timers, settings({ intervalMs: 1000, startPeriodMs: 500, startIntervalMs: 200 }), scripted([fail, fail, fail, fail, fail], timers, calls), []);
  m.start();
  await timers.advance(2500);
  // 200, 400 (inside the period: starting, not counted), 600 (period over: next waits the full interval), 1600, 2600...
  assert.deepEqual(calls.map((c) => c - t0), [200, 400, 600, 1600]);
  assert.deepEqual([m.health.Status, m.health.FailingStreak], ["starting", 2]);
  await timers.advance(1000);
  assert.deepEqual([m.health.Status, m.health.FailingStreak], ["unhealthy", 3]);
  await m.stop();
});

test("HealthMonitor: a probe past its timeout is aborted and counts as exit -1 with Docker's message", async () => {
  const timers = new FakeTimers();
  const calls: number[] = [];
  const seen: { health: Health; previous: string }[] = [];
  const m = monitor(timers, settings({ intervalMs: 100, timeoutMs: 1500, retries: 1 }), scripted(["hang", "hang"], timers, calls), seen);
  m.start();
  await timers.advance(100 + 1499);
  assert.equal(seen.length, 0);
  await timers.advance(1);
  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0]!.health.Log[0]!.ExitCode, -1);
  assert.equal(seen[0]!.health.Log[0]!.Output, "Health check exceeded timeout (1.5s): partial");
  assert.equal(seen[0]!.health.Status, "unhealthy");
  await m.stop();
});

test("HealthMonitor: a probe that cannot run records exit -1 with the error; stop() mid-probe drops the result", async () => {
  const timers = new FakeTimers();
  const calls: number[] = [];
  const seen: { health: Health; previous: string }[] = [];
  const m = monitor(timers, settings({ intervalMs: 100 }), scripted([new Error("OCI runtime exec failed: boom: unknown"), "hang"], timers, calls), seen);
  m.start();
  await timers.advance(100);
  assert.deepEqual(seen.map((s) => [s.health.Log.at(-1)!.ExitCode, s.health.Log.at(-1)!.Output]), [[-1, "OCI runtime exec failed: boom: unknown"]]);
  await timers.advance(100);
  assert.equal(calls.length, 2);
  await m.stop();
  assert.equal(seen.length, 1);
  assert.equal(m.running, false);
  // Restart after stop: the loop resumes with one timer only.
  m.start();
  assert.equal(timers.pending, 1);
  await timers.advance(100);
  assert.equal(calls.length, 3);
  await m.stop();
});
