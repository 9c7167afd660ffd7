/**
 * The networking figures of issue 5, berthd and dockerd in the same run:
 * - `run --rm busybox true` on the default bridge versus `--network none` (interleaved, medians): the per-container cost of networking;
 * - 50 containers started concurrently on one user network, then one container that pings every one of them by name.
 * dockerd gets a bridge of our own (made here, with its own /24) and runs without iptables, so it never writes into the
 * host's global filter/nat tables; the bridge and dockerd's user-network bridge are removed afterwards, also on failure.
 */
import { performance } from "node:perf_hooks";
import { randomBytes, randomInt } from "node:crypto";
import { startBerth, startDockerd, type Engine } from "./engines.js";
import { run } from "../helpers/daemon.js";

export type Figures = Record<string, number>;

const FIFTY = 50;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timed(engine: Engine, args: string[]): Promise<number> {
  const t0 = performance.now();
  const r = await engine.docker(args);
  if (r.code !== 0) throw new Error(`${engine.name}: docker ${args.join(" ")}: ${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

/**
 * Bridge and none alternate, and so do the engines (all running at once), so every figure sees the same
 * background load: on a shared 2-core machine, runs minutes apart are not comparable.
 */
export async function perContainerCost(engines: Engine[], runs: number): Promise<Record<string, Figures>> {
  const bridge = ["run", "--rm", "busybox", "true"];
  const none = ["run", "--rm", "--network", "none", "busybox", "true"];
  const b = new Map<Engine, number[]>(engines.map((e) => [e, []]));
  const n = new Map<Engine, number[]>(engines.map((e) => [e, []]));
  for (const e of engines) { await timed(e, bridge); await timed(e, none); }
  for (let i = 0; i < runs; i++) {
    for (const e of i % 2 ? [...engines].reverse() : engines) {
      b.get(e)!.push(await timed(e, bridge));
      n.get(e)!.push(await timed(e, none));
    }
  }
  const out: Record<string, Figures> = {};
  for (const e of engines) {
    const diffs = b.get(e)!.map((x, i) => x - n.get(e)![i]!);
    out[e.name] = {
      "run --rm busybox true, default bridge (s)": median(b.get(e)!),
      "run --rm busybox true, --network none (s)": median(n.get(e)!),
      "network cost per container: bridge - none (ms)": median(diffs) * 1000,
    };
  }
  return out;
}

/** 50 containers on one user network started at once, then every one pinged by name from another container. */
export async function fiftyOnOneNetwork(engine: Engine, subnet: string): Promise<Figures> {
  const net = `nb${randomBytes(3).toString("hex")}`;
  const names = Array.from({ length: FIFTY }, (_, i) => `${net}-${i}`);
  const created = await engine.docker(["network", "create", "--subnet", subnet, net]);
  if (created.code !== 0) throw new Error(`${engine.name}: network create: ${created.stderr}`);
  try {
    const t0 = performance.now();
    const rs = await Promise.all(names.map((n) => engine.docker(["run", "-d", "--network", net, "--name", n, "busybox", "sleep", "600"])));
    const start = (performance.now() - t0) / 1000;
    const failed = rs.filter((r) => r.code !== 0);
    if (failed.length) throw new Error(`${engine.name}: ${failed.length} of ${FIFTY} did not start: ${failed[0]!.stderr}`);
    const t1 = performance.now();
    const script = `ok=0; for n in ${names.join(" ")}; do ping -c 1 -W 2 $n >/dev/null 2>&1 && ok=$((ok+1)); done; echo $ok`;
    const ping = await engine.docker(["run", "--rm", "--network", net, "busybox", "sh", "-c", script]);
    const pingAll = (performance.now() - t1) / 1000;
    const reachable = Number(ping.stdout.trim());
    if (reachable !== FIFTY) throw new Error(`${engine.name}: only ${ping.stdout.trim() || "0"} of ${FIFTY} reachable by name: ${ping.stderr}`);
    return {
      [`${FIFTY} containers on one user network, started concurrently (s)`]: start,
      [`ping each of the ${FIFTY} by name from one container (s)`]: pingAll,
    };
  } finally {
    const rm = await engine.docker(["rm", "-f", ...names]);
    if (rm.code !== 0 && !/No such container/.test(rm.stderr)) console.error(`${engine.name}: rm: ${rm.stderr}`);
    await engine.docker(["network", "rm", net]);
  }
}

/** A bridge device for dockerd's default network, in 10.220-229.x/24, and its removal. */
export async function makeBridge(): Promise<{ name: string; cidr: string; remove: () => Promise<void> }> {
  const name = `bnb${randomBytes(3).toString("hex")}`;
  const cidr = `10.${220 + randomInt(10)}.${randomInt(256)}.1/24`;
  const remove = async () => { await run("ip", ["link", "del", name]); };
  for (const args of [["link", "add", name, "type", "bridge"], ["addr", "add", cidr, "dev", name], ["link", "set", name, "up"]]) {
    const r = await run("ip", args);
    if (r.code !== 0) { await remove(); throw new Error(`ip ${args.join(" ")}: ${r.stderr}`); }
  }
  return { name, cidr, remove };
}

/** Bridges dockerd made for user networks (br-<id>) that are still there after it stopped. */
async function removeLeftoverBridges(before: Set<string>): Promise<void> {
  const now = (await run("ip", ["-o", "link", "show", "type", "bridge"])).stdout;
  for (const m of now.matchAll(/^\d+: (br-[0-9a-f]{12})[:@]/gm)) if (!before.has(m[1]!)) await run("ip", ["link", "del", m[1]!]);
}

export async function networkBench(runs: number, log: (s: string) => void = () => {}): Promise<{ berthd?: Figures; dockerd?: Figures }> {
  const out: { berthd?: Figures; dockerd?: Figures } = {};
  const subnet = () => `10.${230 + randomInt(10)}.${randomInt(256)}.0/24`;
  const bridgesBefore = new Set([...(await run("ip", ["-o", "link", "show", "type", "bridge"])).stdout.matchAll(/^\d+: (br-[0-9a-f]{12})[:@]/gm)].map((m) => m[1]!));
  let bridge: Awaited<ReturnType<typeof makeBridge>> | null = null;
  let dockerd: Engine | null = null;
  let berth: Engine | null = null;
  try {
    berth = (await startBerth()).engine;
    try {
      bridge = await makeBridge();
      dockerd = await startDockerd({ network: ["--bridge", bridge.name, "--iptables=false", "--ip-masq=false"] });
    } catch (err) {
      log(`dockerd network bench skipped: ${(err as Error).message}`);
    }
    const engines = [berth, ...(dockerd ? [dockerd] : [])];
    const cost = await perContainerCost(engines, runs);
    for (const e of engines) {
      const key = e === berth ? "berthd" : "dockerd";
      out[key] = { ...cost[e.name] };
      try {
        Object.assign(out[key]!, await fiftyOnOneNetwork(e, subnet()));
      } catch (err) {
        log(`${e.name}: 50 containers on one network failed: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    log(`network bench failed: ${(err as Error).message}`);
  } finally {
    await berth?.stop();
    await dockerd?.stop();
    await bridge?.remove();
    await removeLeftoverBridges(bridgesBefore);
  }
  return out;
}

// Run alone: node dist/test/bench/network-bench.js [runs]
if (import.meta.url === `file://${process.argv[1]}`) {
  const runs = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 10);
  networkBench(runs, (s) => console.error(s)).then((r) => {
    const keys = [...new Set(Object.values(r).flatMap((f) => Object.keys(f ?? {})))];
    for (const k of keys) console.log(`${k.padEnd(64)}${(r.berthd?.[k] ?? NaN).toFixed(3).padEnd(12)}${(r.dockerd?.[k] ?? NaN).toFixed(3)}`);
  }).catch((err) => { console.error(err); process.exit(1); });
}
