/**
 * Issue 6 figures: exec round trip, one-shot stats, and the daemon's CPU while 20 containers' stats stream.
 * Bounded loops; everything started here is removed again, also on failure.
 */
import { spawn } from "node:child_process";
import { request } from "node:http";
import { readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { run } from "../helpers/daemon.js";
import type { Engine } from "./engines.js";

const CPU_WINDOW_MS = 10_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function medianSeconds(n: number, fn: () => Promise<{ code: number; stderr: string }>): Promise<number> {
  await fn();
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await fn();
    if (r.code !== 0) throw new Error(`benchmark step failed: ${r.stderr}`);
    xs.push((performance.now() - t0) / 1000);
  }
  return median(xs);
}

/** utime+stime of a process in seconds (/proc/<pid>/stat fields 14 and 15). */
async function cpuSeconds(pid: number, hz: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / hz;
  } catch { return 0; }
}

export async function interactiveBench(engine: Engine, runs: number): Promise<Record<string, number>> {
  const f: Record<string, number> = {};
  const hz = Number((await run("getconf", ["CLK_TCK"])).stdout.trim()) || 100;
  const ids: string[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const r = await engine.docker(["run", "-d", "busybox", "sleep", "600"]);
      if (r.code !== 0) throw new Error(`run -d: ${r.stderr}`);
      ids.push(r.stdout.trim());
    }
    const ctr = ids[0]!;
    f["exec <ctr> true round trip, docker CLI (s)"] = await medianSeconds(runs, () => engine.docker(["exec", ctr, "true"]));
    // Without the CLI's own start-up (~35 ms of Go and config loading): what the engine itself adds over runc.
    f["exec <ctr> true round trip, Engine API (s)"] = await medianSeconds(runs, () => apiExec(engine.host, ctr, ["true"]));
    // The floor under any engine's exec: runc alone (Go start, nsenter, the seccomp compile of the default profile).
    f["runc exec <ctr> true alone, the runtime's floor (s)"] = await medianSeconds(runs, () => engine.runcExec(ctr, ["true"]));
    f["docker version, the CLI's floor (s)"] = await medianSeconds(runs, () => engine.docker(["version"]));
    // The docker CLI renders --no-stream on its first 500 ms tick, so its figure cannot go below that; the API's is the daemon's.
    f["stats --no-stream of a running container, docker CLI (s)"] = await medianSeconds(Math.min(runs, 5), () => engine.docker(["stats", "--no-stream", ctr]));
    f["GET /containers/{id}/stats?stream=false (s)"] = await medianSeconds(runs, () => apiGet(engine.host, `/containers/${ctr}/stats?stream=false`));
    // One docker CLI streaming all 20 (20 stats streams); the daemon's own CPU over a fixed window.
    const env = { ...process.env, DOCKER_HOST: engine.host };
    const cli = spawn("docker", ["stats", ...ids], { env, stdio: ["ignore", "ignore", "ignore"] });
    try {
      await new Promise((r) => setTimeout(r, 2000));
      const pids = await engine.daemonPids();
      const before = (await Promise.all(pids.map((p) => cpuSeconds(p, hz)))).reduce((a, b) => a + b, 0);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, CPU_WINDOW_MS));
      const after = (await Promise.all(pids.map((p) => cpuSeconds(p, hz)))).reduce((a, b) => a + b, 0);
      f["daemon CPU streaming stats of 20 containers (% of a core)"] = ((after - before) / ((performance.now() - t0) / 1000)) * 100;
    } finally {
      cli.kill("SIGTERM");
    }
  } finally {
    if (ids.length) await engine.docker(["rm", "-f", ...ids]);
  }
  return f;
}

async function apiGet(host: string, path: string): Promise<{ code: number; stderr: string }> {
  const r = await api(host, "GET", path).catch((err: Error) => ({ status: 0, body: err.message }));
  return { code: r.status === 200 ? 0 : 1, stderr: `status ${r.status}` };
}

interface ApiReply { status: number; body: string }

function api(host: string, method: string, path: string, body?: unknown): Promise<ApiReply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ socketPath: host.replace(/^unix:\/\//, ""), path, method, headers: payload ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) } : {} }, (res) => {
      let text = "";
      res.setEncoding("latin1");
      res.on("data", (c: string) => { text += c.length < 4096 ? c : ""; });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** What `docker exec ctr cmd` asks of the engine: create, attached start (read to the end), inspect for the exit code. */
async function apiExec(host: string, ctr: string, cmd: string[]): Promise<{ code: number; stderr: string }> {
  const created = await api(host, "POST", `/containers/${ctr}/exec`, { AttachStdout: true, AttachStderr: true, Cmd: cmd });
  if (created.status !== 201) return { code: 1, stderr: `exec create: ${created.status} ${created.body}` };
  const id = (JSON.parse(created.body) as { Id: string }).Id;
  const started = await api(host, "POST", `/exec/${id}/start`, { Detach: false, Tty: false });
  if (started.status !== 200) return { code: 1, stderr: `exec start: ${started.status} ${started.body}` };
  const inspected = await api(host, "GET", `/exec/${id}/json`);
  const exit = (JSON.parse(inspected.body) as { ExitCode: number | null }).ExitCode;
  return { code: exit === 0 ? 0 : 1, stderr: `exit code ${exit}` };
}
