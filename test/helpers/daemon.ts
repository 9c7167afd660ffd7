import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "node:http";
import { randomBytes, randomInt } from "node:crypto";

/** The repository root (dist/test/helpers -> ../../..). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const BERTH = join(REPO, "bin/berth");
export const BERTHD = join(REPO, "bin/berthd");

export interface RunResult { code: number; stdout: string; stderr: string }

/** Remove every container of the daemon: between tests that share one, so a failure cannot fail the next test too. */
export async function removeAllContainers(d: TestDaemon): Promise<void> {
  const ids = (await d.docker(["ps", "-aq"])).stdout.split("\n").filter(Boolean);
  if (ids.length > 0) await d.docker(["rm", "-f", ...ids]);
}

export interface TestDaemon {
  root: string;        // temp dir holding data/, exec/ and the socket
  dataRoot: string;
  execRoot: string;
  socket: string;
  host: string;        // unix://<socket>
  proc: ChildProcess;
  logs(): string;
  /** Runs the berth CLI against this daemon. */
  berth(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Runs the real docker CLI against this daemon. */
  docker(args: string[], opts?: RunOptions): Promise<RunResult>;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; headers: Record<string, unknown>; body: string }>;
  /** SIGKILL the daemon (containers keep running), for restart tests. */
  kill(): Promise<void>;
  /** Start the daemon again on the same roots. */
  restart(): Promise<void>;
  /** Remove every container and image, stop the daemon, unmount and delete the roots. */
  stop(): Promise<void>;
}

export interface RunOptions { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number }

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(cmd, args, {
      env: { ...process.env, ...opts.env },
      timeout: opts.timeoutMs ?? 60_000,
      maxBuffer: 64 * 1024 * 1024,
      encoding: "utf8",
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

export async function startDaemon(opts: { args?: string[] } = {}): Promise<TestDaemon> {
  const root = await mkdtemp(join(tmpdir(), "berth-test-"));
  const dataRoot = join(root, "data");
  const execRoot = join(root, "exec");
  const socket = join(root, "berth.sock");
  const host = `unix://${socket}`;
  let output = "";
  let proc!: ChildProcess;

  const launch = async () => {
    proc = spawn(process.execPath, [...nodeArgs(), BERTHD, "--data-root", dataRoot, "--exec-root", execRoot, "--host", host,
      "--config", join(root, "daemon.json"), ...(opts.args ?? [])], { stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout!.on("data", (d) => { output += d; });
    proc.stderr!.on("data", (d) => { output += d; });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`berthd exited with ${proc.exitCode}:\n${output}`);
      if (existsSync(socket)) {
        try { if ((await api("GET", "/_ping")).status === 200) return; } catch { /* not yet */ }
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    proc.kill("SIGKILL");
    throw new Error(`berthd did not become ready:\n${output}`);
  };

  const api = (method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((res, rej) => {
      const req = request({ socketPath: socket, method, path, headers: body === undefined ? {} : { "Content-Type": "application/json" } }, (r) => {
        let data = "";
        r.setEncoding("utf8");
        r.on("data", (c) => { data += c; });
        r.on("end", () => res({ status: r.statusCode ?? 0, headers: r.headers, body: data }));
      });
      req.on("error", rej);
      req.end(body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body));
    });

  const env = { BERTH_HOST: host, DOCKER_HOST: host, DOCKER_CONFIG: join(root, "docker-config") };
  // Own bridge, subnets and iptables chains per test daemon: parallel daemons never collide, docker0/172.17 never touched.
  const token = randomBytes(3).toString("hex");
  const net = { bridge: `brt${token}`, "iptables-chain-prefix": `BT${token}`, bip: `${await unroutedSubnet("10.213")}.1/24`, "default-address-pools": [{ base: `${await unroutedSubnet("10.214")}.0/24`, size: 28 }] };
  // Test daemons never resolve or contact a registry off this machine (a missing image must not become a pull from docker.io).
  const safety = { "allowed-registries": ["127.0.0.0/8", "localhost"] };
  await import("node:fs/promises").then((fs) => fs.writeFile(join(root, "daemon.json"), JSON.stringify({ ...net, ...safety })));
  try {
    await launch();
  } catch (err) {
    if (proc && proc.exitCode === null) proc.kill("SIGKILL");
    await cleanupRoot(root, execRoot);
    throw err;
  }

  const waitExit = (p: ChildProcess) => new Promise<void>((r) => { if (p.exitCode !== null || p.signalCode !== null) r(); else p.once("exit", () => r()); });

  const daemon: TestDaemon = {
    root, dataRoot, execRoot, socket, host,
    get proc() { return proc; },
    logs: () => output,
    berth: (args, o = {}) => run(process.execPath, [BERTH, ...args], { ...o, env: { ...env, ...o.env } }),
    docker: (args, o = {}) => run("docker", args, { ...o, env: { ...env, DOCKER_BUILDKIT: "0", ...o.env } }),
    api,
    async kill() { proc.kill("SIGKILL"); await waitExit(proc); },
    async restart() { await launch(); },
    async stop() {
      try {
        if (proc.exitCode === null && proc.signalCode === null) {
          const ids = (await daemon.docker(["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean);
          if (ids.length) await daemon.docker(["rm", "-f", ...ids]);
          proc.kill("SIGTERM");
          const t = setTimeout(() => proc.kill("SIGKILL"), 10_000);
          await waitExit(proc);
          clearTimeout(t);
        }
      } finally {
        await cleanupNetworks(dataRoot, execRoot, net).catch(() => {});
        await cleanupRoot(root, execRoot);
      }
    },
  };
  return daemon;
}

/** "<base>.<x>" for a random x that no route on this host uses now: two bridges on one subnet misroute replies, and other
 * daemons (other test files, other runs on this machine) pick from the same ranges. */
export async function unroutedSubnet(base: string): Promise<string> {
  const routes = (await run("ip", ["-4", "route"])).stdout;
  for (let i = 0; i < 64; i++) {
    const x = randomInt(256);
    if (!routes.includes(`${base}.${x}.`)) return `${base}.${x}`;
  }
  return `${base}.${randomInt(256)}`;
}

/** The test daemon's bridges, endpoints and iptables chains go with it. */
async function cleanupNetworks(dataRoot: string, execRoot: string, net: { bridge: string; "iptables-chain-prefix": string; bip: string }): Promise<void> {
  if (!existsSync(join(dataRoot, "networks"))) return;
  const { LocalNetworksService } = await import("../../src/services/networks-service.js");
  const svc = new LocalNetworksService({ dataRoot, execRoot, chainPrefix: net["iptables-chain-prefix"], defaultBridge: net.bridge, bip: net.bip, hostResolvConf: null });
  await svc.destroyAll();
}

/** Last line of defence: whatever a test left under its root (mounts, runc containers, conmon) goes. */
export async function cleanupRoot(root: string, execRoot: string): Promise<void> {
  const runcRoot = join(execRoot, "runc");
  if (existsSync(runcRoot)) {
    const list = await run("runc", ["--root", runcRoot, "list", "-q"]);
    for (const id of list.stdout.split("\n").filter(Boolean)) {
      await run("runc", ["--root", runcRoot, "delete", "--force", id]);
    }
  }
  // conmon processes of this root: found by their bundle path, ended by pid.
  const ps = await run("ps", ["-eo", "pid=,args="]);
  for (const line of ps.stdout.split("\n")) {
    const m = /^\s*(\d+)\s+(\S*conmon\s.*)$/.exec(line);
    if (m && m[2]!.includes(root)) { try { process.kill(Number(m[1]), "SIGKILL"); } catch { /* gone */ } }
  }
  const mounts = (await readFile("/proc/self/mountinfo", "utf8")).split("\n")
    .map((l) => l.split(" ")[4]).filter((p): p is string => !!p && p.startsWith(root))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run("umount", ["-l", m]);
  await rm(root, { recursive: true, force: true, maxRetries: 3 });
}

/** Imports the busybox rootfs made by scripts/busybox-rootfs.mjs as busybox:latest. */
export async function makeBusyboxImage(d: TestDaemon, ref = "busybox:latest"): Promise<string> {
  const tarPath = join(d.root, "busybox.tar");
  const mk = await run(process.execPath, [join(REPO, "scripts/busybox-rootfs.mjs"), tarPath]);
  if (mk.code !== 0) throw new Error(`busybox-rootfs failed: ${mk.stderr}`);
  const res = await d.docker(["import", "--change", 'CMD ["sh"]', tarPath, ref]);
  if (res.code !== 0) throw new Error(`docker import failed: ${res.stderr}\n${d.logs()}`);
  return res.stdout.trim();
}

/** Extra node flags for the daemon under test (BERTHD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p"), for profiling a bench. */
function nodeArgs(): string[] {
  return (process.env.BERTHD_NODE_ARGS ?? "").split(" ").filter(Boolean);
}
