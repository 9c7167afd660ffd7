/**
 * npm run bench: the figures the issues name, for berthd and (when installed) dockerd in the same run.
 * Every loop is bounded; every engine is torn down at the end, also on failure.
 */
import { performance } from "node:perf_hooks";
import { startBerth, startDockerd, rssKb, pssKb, type Engine } from "./engines.js";
import { run, BERTH } from "../helpers/daemon.js";
import { buildBench } from "./build-bench.js";
import { interactiveBench } from "./interactive-bench.js";
import { networkBench, makeBridge } from "./network-bench.js";
import { runRmComparison } from "./run-rm.js";
import { engineRegistryBench } from "../registry/engine-bench.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 10);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timeIt(fn: () => Promise<{ code: number; stderr: string }>): Promise<number> {
  const t0 = performance.now();
  const r = await fn();
  const t = (performance.now() - t0) / 1000;
  if (r.code !== 0) throw new Error(`benchmark step failed: ${r.stderr}`);
  return t;
}

async function medianOf(n: number, fn: () => Promise<{ code: number; stderr: string }>): Promise<number> {
  await fn(); // warm-up
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(await timeIt(fn));
  return median(xs);
}

interface Figures { [k: string]: number }

async function measure(engine: Engine, extra: (() => Promise<Figures>) | null): Promise<Figures> {
  const f: Figures = {};
  await new Promise((r) => setTimeout(r, 1000));
  f["daemon RSS idle after start (MB)"] = (await Promise.all((await engine.daemonPids()).map(rssKb))).reduce((a, b) => a + b, 0) / 1024;
  f["run --rm busybox true, docker CLI (s)"] = await medianOf(RUNS, () => engine.docker(["run", "--rm", "busybox", "true"]));
  if (extra) Object.assign(f, await extra());
  Object.assign(f, await buildBench(engine, (s) => console.error(s)));
  Object.assign(f, await interactiveBench(engine, RUNS));
  const conc: number[] = [];
  for (let round = 0; round < 3; round++) {
    conc.push(await timeIt(async () => {
      const rs = await Promise.all(Array.from({ length: 20 }, () => engine.docker(["run", "--rm", "busybox", "true"])));
      return rs.find((r) => r.code !== 0) ?? rs[0]!;
    }));
  }
  f["20 containers create+start+rm concurrently (s)"] = median(conc);
  await new Promise((r) => setTimeout(r, 1000));
  f["daemon RSS idle after the runs above (MB)"] = (await Promise.all((await engine.daemonPids()).map(rssKb))).reduce((a, b) => a + b, 0) / 1024;
  const ids = await Promise.all(Array.from({ length: 20 }, async () => (await engine.docker(["run", "-d", "busybox", "sleep", "300"])).stdout.trim()));
  await new Promise((r) => setTimeout(r, 1000));
  f["daemon RSS with 20 running (MB)"] = (await Promise.all((await engine.daemonPids()).map(rssKb))).reduce((a, b) => a + b, 0) / 1024;
  const monitors = await engine.monitorPids();
  const monRss = await Promise.all(monitors.map(rssKb));
  f["monitor RSS per container (MB)"] = monRss.length ? median(monRss) / 1024 : NaN;
  // RSS counts the shared libraries (libc, glib for conmon) in full in every monitor; PSS is what each one adds.
  const monPss = await Promise.all(monitors.map(pssKb));
  f["monitor PSS per container (MB)"] = monPss.length ? median(monPss) / 1024 : NaN;
  await engine.docker(["rm", "-f", ...ids.filter(Boolean)]);
  return f;
}

async function main(): Promise<void> {
  const results: Record<string, Figures> = {};
  const { engine: berth, daemon } = await startBerth();
  try {
    results.berthd = await measure(berth, async () => ({
      "run --rm busybox true, berth CLI (s)": await medianOf(RUNS, () => run(process.execPath, [BERTH, "run", "--rm", "busybox", "true"], { env: { BERTH_HOST: daemon.host } })),
    }));
  } finally {
    await berth.stop();
  }
  let dockerd: Engine | null = null;
  let bridge: Awaited<ReturnType<typeof makeBridge>> | null = null;
  try {
    // Like with like: berthd's containers go on its default bridge, so dockerd's go on a bridge too (of our own, no iptables).
    bridge = await makeBridge();
    dockerd = await startDockerd({ network: ["--bridge", bridge.name, "--iptables=false", "--ip-masq=false"] });
    if (dockerd) results.dockerd = await measure(dockerd, null);
  } catch (err) {
    console.error(`dockerd peer skipped: ${(err as Error).message}`);
  } finally {
    await dockerd?.stop();
    await bridge?.remove();
  }
  try {
    const cmp = await runRmComparison(RUNS);
    for (const engine of ["berthd", "dockerd"] as const) if (cmp[engine]) results[engine] = { ...results[engine], ...cmp[engine] };
  } catch (err) {
    console.error(`interleaved run --rm comparison failed: ${(err as Error).message}`);
  }
  const net = await networkBench(RUNS, (s) => console.error(s));
  for (const engine of ["berthd", "dockerd"] as const) if (net[engine]) results[engine] = { ...results[engine], ...net[engine] };
  try {
    // Push and pull through each engine to a Debian docker-registry on loopback (starts its own berthd and dockerd).
    const r = await engineRegistryBench({ log: (s) => console.error(s) });
    Object.assign(results.berthd ??= {}, r.berthd);
    if (r.dockerd) Object.assign(results.dockerd ??= {}, r.dockerd);
  } catch (err) {
    console.error(`registry benchmark failed: ${(err as Error).message}`);
  }
  const keys = [...new Set(Object.values(results).flatMap((f) => Object.keys(f)))];
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`${pad("figure (median)", 48)}${pad("berthd", 12)}${pad("dockerd", 12)}berthd/dockerd`);
  for (const k of keys) {
    const b = results.berthd?.[k];
    const o = results.dockerd?.[k];
    const fmt = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(3));
    console.log(`${pad(k, 48)}${pad(fmt(b), 12)}${pad(fmt(o), 12)}${b !== undefined && o ? (b / o).toFixed(2) : "-"}`);
  }
}

// Every engine is torn down by now; a straggling handle (a proxy socket, an idle worker) must not keep the run alive.
main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
