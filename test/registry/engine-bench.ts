/**
 * Registry figures for `npm run bench`, berthd and dockerd in the same run: a 5-layer random image (~300 MB)
 * loaded into each engine, pushed through the docker CLI to a fresh Debian docker-registry (CNCF distribution)
 * on loopback, a one-layer change pushed again (bytes counted on the wire by a proxy), then removed and pulled
 * back into an empty store. Run alone: node dist/test/registry/engine-bench.js
 */
import { createWriteStream, existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { startBerth, startDockerd, type Engine } from "../bench/engines.js";
import { makeRandomImage, openEngine, startDockerRegistry } from "./fixtures.js";

export interface EngineRegistryFigures {
  "registry push, 5 layers (MB/s)": number;
  "registry pull into the store (MB/s)": number;
  "one-layer-changed push: MB sent": number;
  "one-layer-changed push: changed layer (MB)": number;
}

/** A TCP proxy counting the bytes clients send, so "bytes sent" is what crossed the wire. */
async function countingProxy(target: string): Promise<{ address: string; sent(): number; close(): Promise<void> }> {
  let sent = 0;
  const [host, port] = target.split(":");
  const open = new Set<Socket>();
  const server: Server = createServer((c) => {
    const up = connect(Number(port), host!);
    open.add(c).add(up);
    c.once("close", () => open.delete(c));
    up.once("close", () => open.delete(up));
    c.on("data", (d: Buffer) => { sent += d.length; });
    c.pipe(up).pipe(c);
    c.on("error", () => up.destroy());
    up.on("error", () => c.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent: () => sent,
    // Engines keep registry connections alive: end them, or close() would wait for ever.
    close: () => new Promise<void>((r) => { server.close(() => r()); for (const s of open) s.destroy(); }),
  };
}

/** bench/img:v1 (5 random layers) and bench/img:v2 (v1 with its top layer replaced) as one docker-archive. */
async function makeArchive(dir: string, layers: number, layerBytes: number): Promise<string> {
  const e = await openEngine();
  try {
    await makeRandomImage(e.images, "bench/img:v1", layers, layerBytes);
    const parent = (await e.images.inspect("bench/img:v1")).Parent;
    await makeRandomImage(e.images, "bench/img:v2", 1, layerBytes, parent || null);
    const file = join(dir, "bench.tar");
    await e.images.save(["bench/img:v1", "bench/img:v2"], createWriteStream(file));
    return file;
  } finally {
    await e.close();
  }
}

async function ok(engine: Engine, args: string[]): Promise<void> {
  const r = await engine.docker(args);
  if (r.code !== 0) throw new Error(`${engine.name}: docker ${args.join(" ")}: ${r.stderr.trim()}`);
}

async function timed(engine: Engine, args: string[]): Promise<number> {
  const t0 = performance.now();
  await ok(engine, args);
  return (performance.now() - t0) / 1000;
}

async function measure(engine: Engine, archive: string, imageBytes: number, layerBytes: number, log: (s: string) => void): Promise<EngineRegistryFigures> {
  const reg = await startDockerRegistry();
  const proxy = await countingProxy(reg.address);
  try {
    await ok(engine, ["load", "-q", "-i", archive]);
    const v1 = `${proxy.address}/bench/img:v1`;
    const v2 = `${proxy.address}/bench/img:v2`;
    await ok(engine, ["tag", "bench/img:v1", v1]);
    await ok(engine, ["tag", "bench/img:v2", v2]);
    const pushS = await timed(engine, ["push", "-q", v1]);
    log(`${engine.name}: push ${pushS.toFixed(2)} s`);
    const before = proxy.sent();
    await ok(engine, ["push", "-q", v2]);
    const secondPushBytes = proxy.sent() - before;
    await ok(engine, ["rmi", v1, v2, "bench/img:v1", "bench/img:v2"]);
    const pullS = await timed(engine, ["pull", "-q", v1]);
    log(`${engine.name}: pull ${pullS.toFixed(2)} s, second push sent ${(secondPushBytes / 1e6).toFixed(1)} MB`);
    await ok(engine, ["rmi", v1]);
    return {
      "registry push, 5 layers (MB/s)": imageBytes / 1e6 / pushS,
      "registry pull into the store (MB/s)": imageBytes / 1e6 / pullS,
      "one-layer-changed push: MB sent": secondPushBytes / 1e6,
      "one-layer-changed push: changed layer (MB)": layerBytes / 1e6,
    };
  } finally {
    await proxy.close();
    await reg.stop();
  }
}

/**
 * Both engines, one after the other in the same run. `berth` is a running berthd engine to reuse (the bench's
 * own); dockerd is started here when installed. Returns null for an engine that cannot run here.
 */
export async function engineRegistryBench(opts: { berth?: Engine; layers?: number; layerBytes?: number; log?: (s: string) => void } = {}): Promise<{ berthd: EngineRegistryFigures; dockerd: EngineRegistryFigures | null }> {
  if (!existsSync("/usr/bin/docker-registry")) throw new Error("docker-registry is not installed (scripts/install-deps.sh)");
  const layers = opts.layers ?? 5;
  const layerBytes = opts.layerBytes ?? 60 << 20;
  const log = opts.log ?? (() => {});
  const dir = await mkdtemp(join(tmpdir(), "berth-regbench-"));
  try {
    log(`registry bench: a ${layers}-layer image of ${(layers * layerBytes / 1e6).toFixed(0)} MB`);
    const archive = await makeArchive(dir, layers, layerBytes);
    let berthd: EngineRegistryFigures;
    const own = opts.berth ? null : await startBerth();
    try {
      berthd = await measure(opts.berth ?? own!.engine, archive, layers * layerBytes, layerBytes, log);
    } finally {
      await own?.engine.stop();
    }
    let dockerd: EngineRegistryFigures | null = null;
    const peer = await startDockerd();
    if (peer) {
      try {
        dockerd = await measure(peer, archive, layers * layerBytes, layerBytes, log);
      } finally {
        await peer.stop();
      }
    }
    return { berthd, dockerd };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await engineRegistryBench({ log: (s) => console.error(s) });
  for (const k of Object.keys(r.berthd) as (keyof EngineRegistryFigures)[]) {
    const b = r.berthd[k];
    const d = r.dockerd?.[k];
    console.log(`${k.padEnd(48)}${b.toFixed(1).padEnd(10)}${d === undefined ? "-" : d.toFixed(1).padEnd(10)}${d ? (b / d).toFixed(2) : "-"}`);
  }
}
