import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { BERTH, startDaemon, makeBusyboxImage, type TestDaemon } from "../helpers/daemon.js";
import { eventually } from "../helpers/eventually.js";

let d: TestDaemon;
let id = "";
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
  const r = await d.docker(["run", "-d", "--name", "box", "--memory", "64m", "busybox", "sleep", "1000"]);
  assert.equal(r.code, 0, r.stderr);
  id = r.stdout.trim();
  assert.equal((await d.docker(["create", "--name", "idle", "busybox", "true"])).code, 0);
});
after(async () => { await d?.stop(); });

const HEADER = /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/;

test("berth stats --no-stream: docker's table, running containers only, same figures as docker's", async () => {
  const r = await d.berth(["stats", "--no-stream"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.match(lines[0]!, HEADER);
  assert.equal(lines.length, 2, r.stdout);
  assert.match(lines[1]!, new RegExp(`^${id.slice(0, 12)}\\s+box\\s+\\d+\\.\\d\\d%\\s+[\\d.]+[KMG]?i?B / 64MiB\\s+\\d+\\.\\d\\d%\\s+\\S+ / \\S+\\s+\\S+ / \\S+\\s+1$`));
  const fmt = "{{.Container}} {{.Name}} {{.ID}} {{.PIDs}} {{.MemUsage}}";
  const ours = await d.berth(["stats", "--no-stream", "--format", fmt, "box"]);
  const theirs = await d.docker(["stats", "--no-stream", "--format", fmt, "box"]);
  assert.equal(ours.code, 0, ours.stderr);
  assert.equal(ours.stdout.replace(/ \S+ \/ 64MiB/, ""), theirs.stdout.replace(/ \S+ \/ 64MiB/, ""));
  assert.match(ours.stdout, /^box box [0-9a-f]{12} 1 \S+ \/ 64MiB\n$/);
  const nt = await d.berth(["stats", "--no-stream", "--no-trunc", "--format", "{{.ID}}", "box"]);
  assert.equal(nt.stdout, `${id}\n`);
  const json = await d.berth(["stats", "--no-stream", "--format", "json", "box"]);
  assert.equal((JSON.parse(json.stdout) as { Name: string }).Name, "box");
});

test("berth stats -a --no-stream includes stopped containers with zero figures", async () => {
  const r = await d.berth(["stats", "-a", "--no-stream", "--format", "table {{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.PIDs}}"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+PIDS\n/);
  assert.match(r.stdout, /\nidle\s+0\.00%\s+0B \/ 0B\s+0\n/);
  assert.match(r.stdout, /\nbox\s+/);
});

test("berth stats of a missing container: Docker's error and exit status", async () => {
  const r = await d.berth(["stats", "--no-stream", "nosuch"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No such container: nosuch/);
  const live = await d.berth(["stats", "nosuch"], { timeoutMs: 10_000 });
  assert.equal(live.code, 1);
  assert.match(live.stderr, /No such container: nosuch/);
});

const toFrames = (out: string) => out.split("\x1b[H").slice(1).map((f) => f.replace(/\x1b\[K/g, "").replace(/\x1b\[J$/, ""));

/** Runs `berth stats` live while during runs (given the frames drawn so far, to wait on); returns the frames it drew. */
async function liveFrames(args: string[], during: (frames: () => string[]) => Promise<void>): Promise<string[]> {
  const child = spawn(process.execPath, [BERTH, "stats", ...args], { env: { ...process.env, BERTH_HOST: d.host }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => { out += c.toString(); });
  child.stderr.on("data", (c: Buffer) => { err += c.toString(); });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  try {
    // The last frame may still be being written: only whole ones (another has begun after them) count.
    await during(() => toFrames(out).slice(0, -1));
  } finally {
    child.kill("SIGINT");
    const t = setTimeout(() => child.kill("SIGKILL"), 5000);
    const code = await exited;
    clearTimeout(t);
    assert.equal(code, 0, err);
  }
  assert.ok(out.startsWith("\x1b[2J"), JSON.stringify(out.slice(0, 40)));
  return toFrames(out);
}

test("berth stats live: redraws in place, picks up started containers and drops removed ones", async () => {
  let late = "";
  // Each step waits for the frames that show it (not for a fixed time a loaded machine may not keep to).
  const frames = await liveFrames([], async (drawn) => {
    await eventually("two frames before the late container", () => drawn().length >= 2, { seen: () => drawn().join("") });
    const r = await d.docker(["run", "-d", "--name", "late", "busybox", "sleep", "1000"]);
    assert.equal(r.code, 0, r.stderr);
    late = r.stdout.trim();
    await eventually("two frames with the late container", () => drawn().filter((f) => f.includes(late.slice(0, 12))).length >= 2, { seen: () => drawn().at(-1) ?? "" });
    await d.docker(["rm", "-f", "late"]);
    const removedAt = drawn().length;
    await eventually("a frame without the removed container", () => drawn().slice(removedAt).some((f) => !f.includes(late.slice(0, 12))), { seen: () => drawn().at(-1) ?? "" });
  });
  assert.ok(frames.length >= 6, `only ${frames.length} frames`);
  const rows = (f: string) => f.trimEnd().split("\n");
  assert.match(rows(frames[frames.length - 1]!)[0]!, HEADER);
  const withLate = frames.filter((f) => f.includes(late.slice(0, 12)));
  assert.ok(withLate.length >= 2, "the container started later joined the table");
  assert.match(withLate.at(-1)!, /\slate\s+\d+\.\d\d%/);
  const last = frames[frames.length - 1]!;
  assert.ok(!last.includes(late.slice(0, 12)), `removed container still shown:\n${last}`);
  assert.match(last, /\sbox\s/);
  assert.ok(!frames.some((f) => /\sidle\s/.test(f)), "stopped containers only with -a");
});

test("berth stats CONTAINER live: only the named container; a removed one stays as dashes", async () => {
  const r = await d.docker(["run", "-d", "--name", "short", "busybox", "sleep", "1000"]);
  assert.equal(r.code, 0, r.stderr);
  const dashes = /\nshort\s+--\s+--\n/;
  const frames = await liveFrames(["--format", "table {{.Container}}\t{{.CPUPerc}}\t{{.PIDs}}", "short"], async (drawn) => {
    await eventually("a frame with figures for short", () => drawn().some((f) => f.trim().split("\n").length === 2 && !dashes.test(f)), { seen: () => drawn().at(-1) ?? "" });
    await d.docker(["rm", "-f", "short"]);
    const removedAt = drawn().length;
    await eventually("dashes for the removed container", () => drawn().slice(removedAt).some((f) => dashes.test(f)), { seen: () => drawn().at(-1) ?? "" });
  });
  const full = frames.filter((f) => f.trim().split("\n").length === 2);
  assert.match(full[0]!, /^CONTAINER\s+CPU %\s+PIDS\nshort\s+\d+\.\d\d%\s+1\n/);
  assert.match(frames.at(-1)!, dashes);
  assert.ok(frames.every((f) => !/\sbox\s/.test(f)));
});
