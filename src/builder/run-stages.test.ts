import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { runStages } from "./run-stages.js";

test("runStages: independent stages overlap up to the limit; a stage waits for its dependencies", async () => {
  const log: string[] = [];
  let live = 0;
  let peak = 0;
  const deps: Record<number, number[]> = { 0: [], 1: [], 2: [], 3: [0, 1] };
  await runStages([0, 1, 2, 3], (s) => deps[s]!, async (s) => {
    live++;
    peak = Math.max(peak, live);
    log.push(`start ${s}`);
    await sleep(s === 0 ? 30 : 10);
    log.push(`end ${s}`);
    live--;
  }, { concurrency: 2, abort: () => {} });
  assert.equal(peak, 2);
  assert.deepEqual(log.slice(0, 2), ["start 0", "start 1"]);
  assert.ok(log.indexOf("start 3") > log.indexOf("end 0") && log.indexOf("start 3") > log.indexOf("end 1"));
  assert.equal(log.filter((l) => l.startsWith("end")).length, 4);
});

test("runStages: the first failure aborts the others, starts nothing new, and is what is thrown", async () => {
  const ac = new AbortController();
  const ran: number[] = [];
  await assert.rejects(runStages([0, 1, 2], () => [], async (s) => {
    ran.push(s);
    if (s === 0) { await sleep(5); throw new Error("stage 0 failed"); }
    await new Promise((_, reject) => ac.signal.addEventListener("abort", () => reject(new Error("cancelled"))));
  }, { concurrency: 2, abort: () => ac.abort() }), /stage 0 failed/);
  assert.deepEqual(ran, [0, 1]);
});

test("runStages: concurrency 1 is the sequential order", async () => {
  const order: number[] = [];
  await runStages([0, 1, 2], () => [], async (s) => { order.push(s); await sleep(1); }, { concurrency: 1, abort: () => {} });
  assert.deepEqual(order, [0, 1, 2]);
});
