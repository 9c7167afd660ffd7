/**
 * Registry benchmark for `npm run bench`: a 5-layer random image (~300 MB) pushed to and pulled from a local
 * berth registry through DistributionService, then a one-layer change pushed again, counting the bytes sent.
 * Run alone: node dist/test/registry/bench.js
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, connect, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { serveRegistry } from "../../src/registry/index.js";
import { collect, makeRandomImage, openEngine, quiet, statuses } from "./fixtures.js";

export interface RegistryBenchResult {
  imageBytes: number;
  pushMBps: number;
  pullMBps: number;
  secondPushLayersPushed: number;
  secondPushBytesSent: number;
  changedLayerBytes: number;
}

/** A TCP proxy counting the bytes clients send, so "bytes sent" is what crossed the wire. */
async function countingProxy(target: string): Promise<{ address: string; sent(): number; close(): Promise<void> }> {
  let sent = 0;
  const [host, port] = target.split(":");
  const server: Server = createServer((c) => {
    const up = connect(Number(port), host!);
    c.on("data", (d: Buffer) => { sent += d.length; });
    c.pipe(up).pipe(c);
    c.on("error", () => up.destroy());
    up.on("error", () => c.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent: () => sent,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export async function registryBench(opts: { layers?: number; layerBytes?: number; log?: (s: string) => void } = {}): Promise<RegistryBenchResult> {
  const layers = opts.layers ?? 5;
  const layerBytes = opts.layerBytes ?? 60 << 20;
  const log = opts.log ?? (() => {});
  const root = await mkdtemp(join(tmpdir(), "berth-regbench-"));
  const reg = await serveRegistry({ root, addr: "127.0.0.1:0", gcIntervalMs: 0, logger: quiet });
  const proxy = await countingProxy(reg.address);
  const a = await openEngine();
  const b = await openEngine();
  try {
    const ref = `${proxy.address}/bench/img:v1`;
    log(`building a ${layers}-layer image of ${(layers * layerBytes / 1e6).toFixed(0)} MB`);
    const id = await makeRandomImage(a.images, ref, layers, layerBytes);
    const imageBytes = layers * layerBytes;
    let t0 = performance.now();
    await collect(a.dist.push(ref));
    const pushS = (performance.now() - t0) / 1000;
    t0 = performance.now();
    await collect(b.dist.pull(ref));
    const pullS = (performance.now() - t0) / 1000;
    const parent = (await a.images.inspect(id)).Parent;
    const ref2 = `${proxy.address}/bench/img:v2`;
    await makeRandomImage(a.images, ref2, 1, layerBytes, parent || null);
    const before = proxy.sent();
    const st = statuses(await collect(a.dist.push(ref2)));
    return {
      imageBytes,
      pushMBps: imageBytes / 1e6 / pushS,
      pullMBps: imageBytes / 1e6 / pullS,
      secondPushLayersPushed: st.filter((s) => s.endsWith(": Pushed")).length,
      secondPushBytesSent: proxy.sent() - before,
      changedLayerBytes: layerBytes,
    };
  } finally {
    await a.close();
    await b.close();
    await proxy.close();
    await reg.close();
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await registryBench({ log: (s) => console.error(s) });
  console.log(JSON.stringify(r, null, 2));
}
