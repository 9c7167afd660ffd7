/**
 * A focused benchmark for issue 2's headline figure: `docker run --rm busybox true` against berthd
 * (and dockerd when BENCH_DOCKERD=1), interleaved so both see the same machine load, with the
 * docker CLI's own floor (`docker version`). BENCH_RUNS runs each (default 15). Daemon-side spans are
 * printed when BENCH_SPANS=1 (berthd at --log-level debug).
 * Like with like: dockerd's containers go on a bridge of their own (as berthd's go on its default bridge), still
 * without iptables in the host's global tables; BENCH_DOCKERD_BRIDGE=0 gives the old `--bridge none` figure.
 */
import { performance } from "node:perf_hooks";
import { startBerth, startDockerd, type Engine } from "./engines.js";
import { makeBridge } from "./network-bench.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 15);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timed(e: Engine, args: string[]): Promise<number> {
  const t0 = performance.now();
  const r = await e.docker(args);
  const t = (performance.now() - t0) / 1000;
  if (r.code !== 0) throw new Error(`${e.name} docker ${args.join(" ")}: ${r.stderr}`);
  return t;
}

/** `run --rm busybox true` and `docker version` on each engine in turn, runs times after a warm-up: same load for all. */
export async function interleavedRunRm(engines: Engine[], runs: number): Promise<Map<string, { run: number[]; version: number[] }>> {
  const res = new Map<string, { run: number[]; version: number[] }>(engines.map((e) => [e.name, { run: [], version: [] }]));
  for (const e of engines) { await timed(e, ["run", "--rm", "busybox", "true"]); await timed(e, ["version"]); }
  for (let i = 0; i < runs; i++) {
    for (const e of engines) {
      res.get(e.name)!.run.push(await timed(e, ["run", "--rm", "busybox", "true"]));
      res.get(e.name)!.version.push(await timed(e, ["version"]));
    }
  }
  return res;
}

/** Issue 2's figure for npm run bench: berthd on its default bridge and dockerd on a bridge of its own, interleaved. */
export async function runRmComparison(runs: number): Promise<{ berthd?: Record<string, number>; dockerd?: Record<string, number> }> {
  const { engine: berth } = await startBerth();
  let dockerd: Engine | null = null;
  let bridge: Awaited<ReturnType<typeof makeBridge>> | null = null;
  try {
    bridge = await makeBridge();
    dockerd = await startDockerd({ network: ["--bridge", bridge.name, "--iptables=false", "--ip-masq=false"] });
    const res = await interleavedRunRm([berth, ...(dockerd ? [dockerd] : [])], runs);
    const key = "run --rm busybox true, interleaved, both on a bridge (s)";
    const out: { berthd?: Record<string, number>; dockerd?: Record<string, number> } = {};
    for (const [name, r] of res) out[name as "berthd" | "dockerd"] = { [key]: median(r.run) };
    return out;
  } finally {
    await dockerd?.stop();
    await bridge?.remove();
    await berth.stop();
  }
}

async function main(): Promise<void> {
  const spans = process.env.BENCH_SPANS === "1";
  const { engine: berth, daemon } = await startBerth(spans ? { args: ["--log-level", "debug"] } : {});
  let dockerd: Engine | null = null;
  let bridge: Awaited<ReturnType<typeof makeBridge>> | null = null;
  try {
    if (process.env.BENCH_DOCKERD === "1") {
      if (process.env.BENCH_DOCKERD_BRIDGE !== "0") bridge = await makeBridge();
      dockerd = await startDockerd(bridge ? { network: ["--bridge", bridge.name, "--iptables=false", "--ip-masq=false"] } : {});
    }
    const res = await interleavedRunRm([berth, ...(dockerd ? [dockerd] : [])], RUNS);
    for (const [name, r] of res) {
      console.log(`${name.padEnd(8)} run --rm busybox true: median ${median(r.run).toFixed(3)} s (min ${Math.min(...r.run).toFixed(3)}, max ${Math.max(...r.run).toFixed(3)}); docker version: ${median(r.version).toFixed(3)} s`);
    }
    if (dockerd) console.log(`ratio berthd/dockerd${bridge ? " (both on a bridge)" : " (dockerd --bridge none)"}: ${(median(res.get("berthd")!.run) / median(res.get("dockerd")!.run)).toFixed(2)}`);
    if (spans) {
      const lines = daemon.logs().split("\n").filter((l) => l.includes("msg=\"span"));
      const by = new Map<string, number[]>();
      for (const l of lines) {
        const span = /msg="span ([a-z-]+)"/.exec(l)?.[1] ?? "?";
        for (const m of l.matchAll(/ ([a-z-]+)="(\d+(?:\.\d+)?)"/g)) {
          const k = `${span}.${m[1]}`;
          if (!by.has(k)) by.set(k, []);
          by.get(k)!.push(Number(m[2]));
        }
      }
      const reqs = daemon.logs().split("\n").filter((l) => l.includes('msg="request"'));
      for (const l of reqs) {
        const m = /method="(\w+)" path="([^"]+)" status="?\d+"? ms="?(\d+)"?/.exec(l);
        if (!m) continue;
        const k = `${m[1]} ${m[2]!.replace(/[0-9a-f]{64}/, ":id").replace(/^\/v[\d.]+/, "")}`;
        if (!by.has(k)) by.set(k, []);
        by.get(k)!.push(Number(m[3]));
      }
      for (const [k, xs] of by) console.log(`  span ${k.padEnd(24)} median ${median(xs).toFixed(1)} ms (n=${xs.length})`);
    }
  } finally {
    await dockerd?.stop();
    await bridge?.remove();
    await berth.stop();
  }
}

// Run alone: node dist/test/bench/run-rm.js
if (import.meta.url === `file://${process.argv[1]}`) main().catch((err) => { console.error(err); process.exit(1); });
