import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { call } from "./testing/test-client.js";
import { LocalNetworksService, testNetworkNames } from "../services/networks-service.js";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const bin = join(repo, "bin", "berthd");
const servicesBuilt = await Promise.all(
  ["images-service.js", "containers-service.js"].map((f) => access(join(repo, "dist", "src", "services", f)).then(() => true, () => false)),
).then((all) => all.every(Boolean));
const dockerPresent = await access("/usr/local/bin/docker").then(() => true, () => false);

const started: ChildProcess[] = [];
const dirs: string[] = [];
/** The daemon's own bridge, subnet and chains (never the defaults berth0/BERTH), removed after the test. */
const net = testNetworkNames();
const third = 16 + (parseInt(net.token, 16) % 200);
const daemonJson = { bridge: net.defaultBridge, "iptables-chain-prefix": net.chainPrefix, bip: `10.216.${third}.1/24`, "default-address-pools": [{ base: `10.217.${third}.0/24`, size: 28 }] };
const networkRoots: { dataRoot: string; execRoot: string }[] = [];

after(async () => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  for (const r of networkRoots) {
    await new LocalNetworksService({ ...r, chainPrefix: net.chainPrefix, defaultBridge: net.defaultBridge, bip: daemonJson.bip, hostResolvConf: null })
      .destroyAll().catch(() => {});
  }
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    started.push(p);
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (c) => (stdout += c));
    p.stderr.on("data", (c) => (stderr += c));
    p.on("exit", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

interface Daemon { proc: ChildProcess; stderr: () => string; exited: Promise<number | null> }

async function startBerthd(args: string[], sock: string): Promise<Daemon> {
  const proc = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  started.push(proc);
  let err = "";
  proc.stderr!.on("data", (c) => (err += c));
  const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
  const deadline = Date.now() + 15_000;
  while (!err.includes("berthd ready")) {
    if (proc.exitCode !== null) throw new Error(`berthd exited early: ${err}`);
    if (Date.now() > deadline) throw new Error(`berthd did not get ready: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal((await call(sock, "GET", "/_ping")).text, "OK");
  return { proc, stderr: () => err, exited };
}

test("a missing explicit config file is a clear error with exit 1; unknown flags too", async () => {
  const r = await run(["--config", "/nonexistent/berth/daemon.json"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^berthd: unable to configure the daemon with file \/nonexistent\/berth\/daemon\.json/);
  const u = await run(["--frobnicate"]);
  assert.equal(u.code, 1);
  assert.match(u.stderr, /unknown flag: --frobnicate/);
  const h = await run(["--help"]);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /--data-root/);
});

test("berthd serves the docker CLI, refuses a second daemon on its root, and cleans up on SIGTERM", { skip: !servicesBuilt && "images/containers services not built yet" }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berthd-"));
  dirs.push(dir);
  const sock = join(dir, "berth.sock");
  const args = ["--data-root", join(dir, "data"), "--exec-root", join(dir, "exec"), "--host", `unix://${sock}`, "--config", join(dir, "daemon.json")];
  await import("node:fs/promises").then((fs) => fs.writeFile(join(dir, "daemon.json"), JSON.stringify(daemonJson)));
  networkRoots.push({ dataRoot: join(dir, "data"), execRoot: join(dir, "exec") });
  const d = await startBerthd(args, sock);
  const ms = Number(/startupMs="?(\d+)/.exec(d.stderr())?.[1]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${d.proc.pid}/status`, "utf8"))?.[1]);
  t.diagnostic(`startup ${ms} ms, idle RSS ${Math.round(rssKb / 1024)} MB`);
  const v = (await call(sock, "GET", "/version")).json<{ ApiVersion: string }>();
  assert.equal(v.ApiVersion, "1.47");

  if (dockerPresent) {
    const env = { PATH: process.env.PATH, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(dir, "docker-config") };
    for (const cmd of [["version"], ["info"]]) {
      const code = await new Promise<number>((resolve) => execFile("docker", cmd, { env, timeout: 20_000 }, (err) => resolve(err ? 1 : 0)));
      assert.equal(code, 0, `docker ${cmd.join(" ")}`);
    }
  }

  const second = await run(["--data-root", join(dir, "data"), "--exec-root", join(dir, "exec2"), "--host", `unix://${join(dir, "other.sock")}`]);
  assert.equal(second.code, 1);
  assert.match(second.stderr, new RegExp(`berthd is already running on ${join(dir, "data").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(pid ${d.proc.pid}\\)`));
  await assert.rejects(access(join(dir, "other.sock")));

  d.proc.kill("SIGHUP");
  // The reload is handled asynchronously: wait for its log line (bounded) rather than a fixed 100 ms.
  for (const deadline = Date.now() + 15_000; !/reloaded configuration/.test(d.stderr()) && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
  assert.match(d.stderr(), /reloaded configuration/);

  d.proc.kill("SIGTERM");
  assert.equal(await d.exited, 0);
  await assert.rejects(access(sock));
  await assert.rejects(access(join(dir, "data", "berthd.pid")));
});
