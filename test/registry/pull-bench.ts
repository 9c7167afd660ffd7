/**
 * In-process pull figures (no daemon, no CLI): a 5-layer random image pushed once to a Debian docker-registry
 * on loopback, then pulled N times into an empty store. Prints wall MB/s and process CPU-seconds (all threads)
 * per pull, with their medians. Run alone: node [--cpu-prof] dist/test/registry/pull-bench.js
 */
import { performance } from "node:perf_hooks";
import { collect, makeRandomImage, openEngine, startDockerRegistry } from "./fixtures.js";

const LAYERS = Number(process.env.BENCH_LAYERS ?? 5);
const LAYER_BYTES = Number(process.env.BENCH_LAYER_BYTES ?? 60 << 20);
const PULLS = Number(process.env.BENCH_PULLS ?? 3);

function median(xs: number[]): number {
  const v = [...xs].sort((x, y) => x - y);
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

const reg = await startDockerRegistry();
const a = await openEngine();
const b = await openEngine();
try {
  const ref = `${reg.address}/bench/img:v1`;
  await makeRandomImage(a.images, ref, LAYERS, LAYER_BYTES);
  await collect(a.dist.push(ref));
  const mb = (LAYERS * LAYER_BYTES) / 1e6;
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < PULLS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await collect(b.dist.pull(ref));
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    walls.push(s);
    cpus.push(cpu);
    console.log(`pull ${i + 1}: ${s.toFixed(2)} s, ${(mb / s).toFixed(1)} MB/s, ${cpu.toFixed(2)} CPU-s (user ${(c.user / 1e6).toFixed(2)}, sys ${(c.system / 1e6).toFixed(2)})`);
    await b.images.remove(ref, { force: true });
    await b.images.prune();
  }
  console.log(`median: ${(mb / median(walls)).toFixed(1)} MB/s, ${median(cpus).toFixed(2)} CPU-s per ${mb.toFixed(0)} MB pull`);
} finally {
  await b.close();
  await a.close();
  await reg.stop();
}
