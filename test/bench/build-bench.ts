/**
 * The reference build (test/build/reference-build.ts) through the docker CLI's classic builder against
 * an engine: cold build, fully cached rebuild, rebuild after one late COPY source changed. Each round
 * uses a fresh context (new random content, so cold is cold); figures are medians over the rounds.
 * Also run directly: node dist/test/bench/build-bench.js [berthd|dockerd|both] (both: rounds alternate).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { benchReferenceBuild, buildWithDockerCli, LATE_CHANGE_REBUILDS } from "../build/reference-build.js";
import { startBerth, startDockerd, type Engine } from "./engines.js";

const ROUNDS = Number(process.env.BENCH_BUILD_ROUNDS ?? 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Rounds { cold: number[]; cached: number[]; changed: number[]; exact: boolean }

/** One round on a fresh context: cold, fully cached, one late COPY source changed (seconds). */
async function benchRound(engine: Engine, i: number, into: Rounds, log: (s: string) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "berth-bench-build-"));
  try {
    const r = await benchReferenceBuild(dir, buildWithDockerCli(engine.host, `bench-ref:${i}`));
    into.cold.push(r.cold.ms / 1000);
    into.cached.push(r.cached.ms / 1000);
    into.changed.push(r.oneFileChanged.ms / 1000);
    if (!r.exactRebuild || r.cached.rebuilt.length > 0) {
      into.exact = false;
      log(`${engine.name}: round ${i}: cached rebuilt ${JSON.stringify(r.cached.rebuilt)}, one-file change rebuilt ${JSON.stringify(r.oneFileChanged.rebuilt)} (want ${JSON.stringify(LATE_CHANGE_REBUILDS)})`);
    }
    log(`${engine.name}: round ${i}: cold ${r.cold.ms} ms, cached ${r.cached.ms} ms, one file changed ${r.oneFileChanged.ms} ms`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function summary(r: Rounds): Record<string, number> {
  return {
    "build: reference, cold (s)": median(r.cold),
    "build: reference, fully cached (s)": median(r.cached),
    "build: reference, one late COPY changed (s)": median(r.changed),
    "build: one-file change rebuilt exactly 9-12 (1=yes)": r.exact ? 1 : 0,
  };
}

export async function buildBench(engine: Engine, log: (s: string) => void = () => {}): Promise<Record<string, number>> {
  const r: Rounds = { cold: [], cached: [], changed: [], exact: true };
  for (let i = 0; i < ROUNDS; i++) await benchRound(engine, i, r, log);
  for (let i = 0; i < ROUNDS; i++) await engine.docker(["rmi", `bench-ref:${i}`]);
  return summary(r);
}

/**
 * Both engines side by side: their rounds alternate (the order swapping every round), so a busy
 * minute on a shared machine weighs on both alike and the ratios stay fair.
 */
async function main(): Promise<void> {
  const which = process.argv[2] ?? "both";
  const engines: Engine[] = [];
  const results: Record<string, Record<string, number>> = {};
  try {
    for (const name of ["berthd", "dockerd"]) {
      if (which !== "both" && which !== name) continue;
      const engine = name === "berthd" ? (await startBerth()).engine : await startDockerd();
      if (engine) engines.push(engine);
    }
    const rounds = new Map(engines.map((e) => [e.name, { cold: [], cached: [], changed: [], exact: true } as Rounds]));
    for (let i = 0; i < ROUNDS; i++) {
      const order = i % 2 === 0 ? engines : [...engines].reverse();
      for (const e of order) await benchRound(e, i, rounds.get(e.name)!, (s) => console.error(s));
    }
    for (const e of engines) results[e.name] = summary(rounds.get(e.name)!);
  } finally {
    for (const e of engines) await e.stop();
  }
  for (const k of Object.keys(results.berthd ?? results.dockerd ?? {})) {
    const b = results.berthd?.[k];
    const o = results.dockerd?.[k];
    console.log(`${k.padEnd(52)}${String(b?.toFixed(3) ?? "-").padEnd(10)}${String(o?.toFixed(3) ?? "-").padEnd(10)}${b !== undefined && o ? (b / o).toFixed(2) : "-"}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => { console.error(err); process.exit(1); });
}
