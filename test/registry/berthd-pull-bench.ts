/**
 * `docker pull` through berthd alone (no dockerd): a 5-layer random image pushed once to a Debian
 * docker-registry on loopback, then pulled BENCH_PULLS times into an empty store; wall seconds and the
 * daemon's CPU-seconds per pull, with medians. Run alone: node dist/test/registry/berthd-pull-bench.js
 */
import { readFile } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startBerth } from "../bench/engines.js";
import { makeArchive } from "./engine-bench.js";
import { startDockerRegistry } from "./fixtures.js";

const LAYERS = 5;
const LAYER_BYTES = 60 << 20;
const PULLS = Number(process.env.BENCH_PULLS ?? 5);

function median(xs: number[]): number {
  const v = [...xs].sort((x, y) => x - y);
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

async function cpuSeconds(pid: number): Promise<number> {
  const f = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;   // utime + stime, in clock ticks of 10 ms
}

const dir = await mkdtemp(join(tmpdir(), "berth-pullbench-"));
const { engine, daemon } = await startBerth();
const reg = await startDockerRegistry();
try {
  const ok = async (args: string[]) => {
    const r = await engine.docker(args);
    if (r.code !== 0) throw new Error(`docker ${args.join(" ")}: ${r.stderr.trim()}`);
  };
  const archive = await makeArchive(dir, LAYERS, LAYER_BYTES);
  const ref = `${reg.address}/bench/img:v1`;
  await ok(["load", "-q", "-i", archive]);
  await ok(["tag", "bench/img:v1", ref]);
  await ok(["push", "-q", ref]);
  await ok(["rmi", ref, "bench/img:v1", "bench/img:v2"]);
  const mb = (LAYERS * LAYER_BYTES) / 1e6;
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < PULLS; i++) {
    const c0 = await cpuSeconds(daemon.proc.pid!);
    const t0 = performance.now();
    await ok(["pull", "-q", ref]);
    const s = (performance.now() - t0) / 1000;
    const cpu = (await cpuSeconds(daemon.proc.pid!)) - c0;
    walls.push(s);
    cpus.push(cpu);
    console.log(`pull ${i + 1}: ${s.toFixed(2)} s, ${(mb / s).toFixed(1)} MB/s, berthd ${cpu.toFixed(2)} CPU-s`);
    await ok(["rmi", ref]);
  }
  console.log(`median: ${(mb / median(walls)).toFixed(1)} MB/s, ${median(cpus).toFixed(2)} CPU-s per ${mb.toFixed(0)} MB pull`);
} finally {
  await reg.stop();
  await engine.stop();
  await rm(dir, { recursive: true, force: true });
}
