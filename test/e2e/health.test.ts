import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, makeBusyboxImage, removeAllContainers, type TestDaemon } from "../helpers/daemon.js";

interface HealthJson { Status: string; FailingStreak: number; Log: { Start: string; End: string; ExitCode: number; Output: string }[] }
interface Inspected { Id: string; RestartCount: number; State: { Status: string; Pid: number; ExitCode: number; StartedAt: string; Health?: HealthJson }; Config: { Healthcheck?: { Test?: string[] } }; HostConfig: Record<string, unknown> }

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
});
after(async () => { await d?.stop(); });
afterEach(() => removeAllContainers(d));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// sh as pid 1 ignores SIGTERM unless it traps it; the loop keeps stops quick.
const SERVE = ["sh", "-c", "trap 'exit 0' TERM; touch /tmp/ok; while true; do sleep 0.1; done"];

async function inspect(ref: string): Promise<Inspected> {
  const r = await d.docker(["inspect", ref]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as Inspected[])[0]!;
}

async function until(ref: string, what: string, ok: (c: Inspected) => boolean, ms = 20_000): Promise<Inspected> {
  const end = Date.now() + ms;
  let c = await inspect(ref);
  while (!ok(c)) {
    if (Date.now() > end) assert.fail(`${ref}: timed out waiting for ${what}; state ${JSON.stringify(c.State)}\n${d.logs().slice(-2000)}`);
    await sleep(100);
    c = await inspect(ref);
  }
  return c;
}

const healthIs = (s: string) => (c: Inspected) => c.State.Health?.Status === s;

async function psStatus(name: string): Promise<string> {
  const r = await d.docker(["ps", "-a", "--filter", `name=^${name}$`, "--format", "{{.Status}}"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

async function psNames(filter: string): Promise<string[]> {
  const r = await d.docker(["ps", "--filter", filter, "--format", "{{.Names}}"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split("\n").filter(Boolean).sort();
}

test("a container turns healthy, then unhealthy when its check starts failing; ps, filters, pause and events follow", async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  // A check that has not run yet: starting, with an empty log. (Made before "web", whose first probe may land at
  // any moment, so the starting filter has exactly one container to find.)
  assert.equal((await d.docker(["run", "-d", "--name", "slow", "--health-cmd", "true", "--health-interval", "1h", "busybox", "sleep", "1000"])).code, 0);
  assert.match(await psStatus("slow"), /^Up .* \(health: starting\)$/);
  const slow = await inspect("slow");
  assert.deepEqual(slow.State.Health, { Status: "starting", FailingStreak: 0, Log: [] });
  assert.deepEqual(await psNames("health=starting"), ["slow"]);
  const run = await d.docker(["run", "-d", "--name", "web", "--health-cmd", "echo probing; test -f /tmp/ok", "--health-interval", "200ms", "--health-retries", "2", "busybox", ...SERVE]);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();

  const healthy = await until("web", "healthy", healthIs("healthy"));
  const h = healthy.State.Health!;
  assert.equal(h.FailingStreak, 0);
  assert.ok(h.Log.length >= 1);
  const first = h.Log[0]!;
  assert.equal(first.ExitCode, 0);
  assert.equal(first.Output, "probing\n");
  assert.ok(Date.parse(first.Start) >= Date.parse(healthy.State.StartedAt) && Date.parse(first.End) >= Date.parse(first.Start));
  assert.match(await psStatus("web"), /^Up .* \(healthy\)$/);
  assert.deepEqual(await psNames("health=healthy"), ["web"]);
  // The log keeps the last five results.
  const five = await until("web", "five log entries", (c) => (c.State.Health?.Log.length ?? 0) >= 5);
  await sleep(500);
  assert.equal((await inspect("web")).State.Health!.Log.length, 5);
  assert.ok(five.State.Health!.Log.every((l) => l.ExitCode === 0));

  // Paused: no probes, reported as "(Paused)"; inspect says unhealthy until a probe succeeds again (as Docker does).
  assert.equal((await d.docker(["pause", "web"])).code, 0);
  assert.match(await psStatus("web"), /^Up .* \(Paused\)$/);
  assert.equal((await inspect("web")).State.Health!.Status, "unhealthy");
  const frozen = (await inspect("web")).State.Health!.Log.at(-1)!.End;
  await sleep(600);
  assert.equal((await inspect("web")).State.Health!.Log.at(-1)!.End, frozen, "no probe ran while paused");
  assert.equal((await d.docker(["unpause", "web"])).code, 0);
  await until("web", "healthy after unpause", (c) => c.State.Health?.Status === "healthy" && c.State.Health.Log.at(-1)!.End !== frozen);

  assert.equal((await d.docker(["exec", "web", "rm", "/tmp/ok"])).code, 0);
  const sick = await until("web", "unhealthy", healthIs("unhealthy"));
  assert.ok(sick.State.Health!.FailingStreak >= 2);
  const last = sick.State.Health!.Log.at(-1)!;
  assert.equal(last.ExitCode, 1);
  assert.equal(last.Output, "probing\n");
  assert.match(await psStatus("web"), /^Up .* \(unhealthy\)$/);
  assert.deepEqual(await psNames("health=unhealthy"), ["web"]);
  const bad = await d.docker(["ps", "--filter", "health=sick"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /Unrecognised filter value for health: sick/);

  // Recovery is reported too.
  assert.equal((await d.docker(["exec", "web", "touch", "/tmp/ok"])).code, 0);
  await until("web", "healthy again", healthIs("healthy"));

  const ev = await d.docker(["events", "--since", String(since), "--until", String(Math.ceil(Date.now() / 1000) + 1), "--filter", "event=health_status", "--filter", `container=${id}`]);
  assert.equal(ev.code, 0, ev.stderr);
  const actions = ev.stdout.split("\n").filter(Boolean).map((l) => /container (health_status: \w+) /.exec(l)?.[1]);
  // healthy, unhealthy on pause is silent, healthy after unpause, unhealthy, healthy.
  assert.deepEqual(actions, ["health_status: healthy", "health_status: healthy", "health_status: unhealthy", "health_status: healthy"], ev.stdout);
  assert.match(ev.stdout.split("\n")[0]!, new RegExp(`container health_status: healthy ${id} \\(.*image=busybox.*name=web.*\\)`));
  // Probes are execs, as Docker reports them.
  const ex = await d.docker(["events", "--since", String(since), "--until", String(Math.ceil(Date.now() / 1000) + 1), "--filter", "event=exec_create", "--filter", `container=${id}`, "--format", "{{.Action}}"]);
  assert.match(ex.stdout, /^exec_create: \/bin\/sh -c echo probing; test -f \/tmp\/ok$/m);

  // Stopped: probing ends and the last state stays readable.
  assert.equal((await d.docker(["stop", "web"])).code, 0);
  const stopped = await inspect("web");
  assert.equal(stopped.State.Status, "exited");
  assert.equal(stopped.State.Health!.Status, "unhealthy");
  assert.match(await psStatus("web"), /^Exited \(0\)/);
  const endStopped = stopped.State.Health!.Log.at(-1)!.End;
  await sleep(600);
  assert.equal((await inspect("web")).State.Health!.Log.at(-1)!.End, endStopped, "no probe after stop");
  // Started again: starting, streak reset, the log kept.
  assert.equal((await d.docker(["start", "web"])).code, 0);
  const restarted = await inspect("web");
  assert.equal(restarted.State.Health!.FailingStreak, 0);
  assert.ok(restarted.State.Health!.Status === "starting" || restarted.State.Health!.Status === "healthy");
  await until("web", "healthy after start", healthIs("healthy"));
  assert.equal((await d.docker(["rm", "-f", "web", "slow"])).code, 0);
});

test("start period: failures do not count while starting; the start interval paces the early probes", async () => {
  const t0 = Date.now();
  const r = await d.docker(["run", "-d", "--name", "boot", "--health-cmd", "false", "--health-interval", "1s", "--health-retries", "1",
    "--health-start-period", "2500ms", "--health-start-interval", "100ms", "busybox", "sleep", "1000"]);
  assert.equal(r.code, 0, r.stderr);
  await until("boot", "two probes", (c) => (c.State.Health?.Log.length ?? 0) >= 2);
  const early = await inspect("boot");
  if (Date.now() - t0 < 2000) {
    assert.equal(early.State.Health!.Status, "starting");
    assert.equal(early.State.Health!.FailingStreak, 0);
    assert.ok(early.State.Health!.Log.every((l) => l.ExitCode === 1));
    // The next probe is timed from the end of the last one: a pause well inside one interval (1s) means the start
    // interval (100ms) is in use. (Measured end to start, so a probe slowed by a loaded machine does not count.)
    const [a, b] = early.State.Health!.Log;
    const gap = Date.parse(b!.Start) - Date.parse(a!.End);
    assert.ok(gap < 700, `${gap}ms between one probe's end and the next one's start`);
  }
  const sick = await until("boot", "unhealthy after the start period", healthIs("unhealthy"));
  const counted = sick.State.Health!.Log.filter((l) => Date.parse(l.Start) - Date.parse(sick.State.StartedAt) >= 2500);
  assert.ok(counted.length >= 1);
  assert.equal(sick.State.Health!.FailingStreak, 1);

  // A check that hangs past its timeout fails with exit -1 and Docker's message.
  const t = await d.docker(["run", "-d", "--name", "hang", "--health-cmd", "echo begun; sleep 5", "--health-timeout", "1s", "--health-interval", "200ms", "--health-retries", "1", "busybox", "sleep", "1000"]);
  assert.equal(t.code, 0, t.stderr);
  const hung = await until("hang", "unhealthy by timeout", healthIs("unhealthy"));
  const entry = hung.State.Health!.Log[0]!;
  assert.equal(entry.ExitCode, -1);
  assert.equal(entry.Output, "Health check exceeded timeout (1s): begun\n");
  // Killed at 1s rather than waited for (it would take 5s); loose enough for a loaded machine.
  assert.ok(Date.parse(entry.End) - Date.parse(entry.Start) < 4500, "the probe was killed, not waited for");
  assert.equal((await d.docker(["rm", "-f", "boot", "hang"])).code, 0);
});

test("an image HEALTHCHECK from docker build runs; --no-healthcheck turns it off; overrides merge field by field", async () => {
  const ctx = join(d.root, "health-ctx");
  await mkdir(ctx, { recursive: true });
  await writeFile(join(ctx, "Dockerfile"), "FROM busybox\nHEALTHCHECK --interval=200ms --retries=1 CMD [\"sh\", \"-c\", \"echo from-image\"]\nCMD [\"sleep\", \"1000\"]\n");
  const b = await d.docker(["build", "-t", "checked:1", ctx], { env: { DOCKER_BUILDKIT: "0" } });
  assert.equal(b.code, 0, b.stderr + b.stdout);
  const img = JSON.parse((await d.docker(["image", "inspect", "checked:1"])).stdout)[0];
  assert.deepEqual(img.Config.Healthcheck, { Test: ["CMD", "sh", "-c", "echo from-image"], Interval: 200_000_000, Retries: 1 });

  assert.equal((await d.docker(["run", "-d", "--name", "imgcheck", "checked:1"])).code, 0);
  assert.equal((await d.docker(["run", "-d", "--name", "nocheck", "--no-healthcheck", "checked:1"])).code, 0);
  assert.equal((await d.docker(["run", "-d", "--name", "override", "--health-cmd", "exit 3", "checked:1"])).code, 0);
  const ok = await until("imgcheck", "healthy", healthIs("healthy"));
  assert.equal(ok.State.Health!.Log[0]!.Output, "from-image\n");
  const over = await until("override", "unhealthy", healthIs("unhealthy"));
  assert.deepEqual(over.Config.Healthcheck, { Test: ["CMD-SHELL", "exit 3"], Interval: 200_000_000, Retries: 1 });
  assert.equal(over.State.Health!.Log[0]!.ExitCode, 3);

  await sleep(600);
  const off = await inspect("nocheck");
  assert.deepEqual(off.Config.Healthcheck?.Test, ["NONE"]);
  assert.equal(off.State.Health, undefined);
  assert.match(await psStatus("nocheck"), /^Up [^(]*$/);
  assert.deepEqual(await psNames("health=none"), ["nocheck"]);
  const conflict = await d.docker(["run", "--no-healthcheck", "--health-cmd", "true", "checked:1"]);
  assert.equal(conflict.code, 125);
  assert.match(conflict.stderr, /--no-healthcheck conflicts with --health-\* options/);
  assert.equal((await d.docker(["rm", "-f", "imgcheck", "nocheck", "override"])).code, 0);
});

test("bad health settings are refused at create with Docker's wording", async () => {
  const create = (Healthcheck: unknown, HostConfig: Record<string, unknown> = {}) => d.api("POST", "/containers/create", { Image: "busybox", Cmd: ["true"], Healthcheck, HostConfig });
  for (const [hc, msg] of [
    [{ Test: ["CMD", "true"], Interval: 500_000 }, "Interval in Healthcheck cannot be less than 1ms"],
    [{ Test: ["CMD", "true"], Timeout: 10 }, "Timeout in Healthcheck cannot be less than 1ms"],
    [{ Test: ["CMD", "true"], Retries: -1 }, "Retries in Healthcheck cannot be negative"],
    [{ Test: ["CMD", "true"], StartInterval: 5 }, "StartInterval in Healthcheck cannot be less than 1ms"],
  ] as const) {
    const r = await create(hc);
    assert.equal(r.status, 400, r.body);
    assert.equal(JSON.parse(r.body).message, msg);
  }
  const bad = await create({ Test: ["CMD", "true"] }, { HealthOnFailure: "explode" });
  assert.equal(bad.status, 400, bad.body);
  assert.match(JSON.parse(bad.body).message, /invalid health on failure action: 'explode'/);
  const cli = await d.berth(["run", "--health-on-failure", "explode", "busybox", "true"]);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /--health-on-failure/);
  assert.equal((await d.docker(["ps", "-aq"])).stdout.trim(), "", "nothing half-made");
});

test("--health-on-failure (berth CLI): restart brings an unhealthy container back, kill and stop end it", async () => {
  const common = ["--health-cmd", "test -f /tmp/ok", "--health-interval", "200ms", "--health-retries", "1"];
  for (const [name, action] of [["rs", "restart"], ["kl", "kill"], ["st", "stop"]] as const) {
    const r = await d.berth(["run", "-d", "--name", name, ...common, "--health-on-failure", action, "busybox", ...SERVE]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  }
  const before = await Promise.all(["rs", "kl", "st"].map((n) => until(n, "healthy", healthIs("healthy"))));
  assert.equal(before[0]!.HostConfig.HealthOnFailure, "restart");
  const listed = await d.berth(["ps", "--filter", "health=healthy", "--format", "{{.Names}} {{.Status}}"]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(listed.stdout.split("\n").filter(Boolean).map((l) => l.replace(/ Up .* \(healthy\)$/, "")).sort(), ["kl", "rs", "st"], listed.stdout);
  for (const n of ["rs", "kl", "st"]) assert.equal((await d.docker(["exec", n, "rm", "/tmp/ok"])).code, 0);

  // restart: stopped and started again by the daemon; the command recreates /tmp/ok, so it is healthy again.
  const back = await until("rs", "restarted", (c) => c.RestartCount >= 1 && c.State.Status === "running");
  assert.notEqual(back.State.Pid, before[0]!.State.Pid);
  assert.ok(Date.parse(back.State.StartedAt) > Date.parse(before[0]!.State.StartedAt));
  await until("rs", "healthy after restart", healthIs("healthy"));

  const killed = await until("kl", "killed", (c) => c.State.Status === "exited");
  assert.equal(killed.State.ExitCode, 137);
  assert.equal(killed.State.Health!.Status, "unhealthy");
  const stopped = await until("st", "stopped", (c) => c.State.Status === "exited");
  assert.equal(stopped.State.ExitCode, 0, "stopped with its stop signal, which it traps");
  await sleep(500);
  assert.equal((await inspect("kl")).State.Status, "exited", "no restart policy: stays down");
  assert.match(await psStatus("kl"), /^Exited \(137\)/);
  assert.equal((await d.docker(["rm", "-f", "rs", "kl", "st"])).code, 0);
});

test("health survives a daemon restart: the recorded state is kept and probing resumes", async () => {
  assert.equal((await d.docker(["run", "-d", "--name", "keep", "--health-cmd", "test -f /tmp/ok", "--health-interval", "200ms", "busybox", ...SERVE])).code, 0);
  const first = await until("keep", "healthy", healthIs("healthy"));
  // A probe's result is saved after it is shown; a kill right at the transition may lose that one save (as it may in
  // Docker). Two more healthy probes later, "healthy" is certainly on disk.
  const seen = first.State.Health!.Log.at(-1)!.End;
  const healthy = await until("keep", "two more healthy probes", (c) => {
    const log = c.State.Health!.Log;
    const i = log.findIndex((r) => r.End === seen);
    return c.State.Health!.Status === "healthy" && (i === -1 || log.length - 1 - i >= 2);
  });
  await d.kill();
  await d.restart();
  const after = await inspect("keep");
  assert.equal(after.State.Status, "running");
  assert.equal(after.State.Health!.Status, "healthy");
  assert.ok(after.State.Health!.Log.length >= healthy.State.Health!.Log.length);
  const lastEnd = after.State.Health!.Log.at(-1)!.End;
  await until("keep", "probing again", (c) => c.State.Health!.Log.at(-1)!.End !== lastEnd);
  assert.match(await psStatus("keep"), /\(healthy\)$/);
  assert.equal((await d.docker(["exec", "keep", "rm", "/tmp/ok"])).code, 0);
  await until("keep", "unhealthy after the restart", healthIs("unhealthy"));
  assert.equal((await d.docker(["rm", "-f", "keep"])).code, 0);
});
