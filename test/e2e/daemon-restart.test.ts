import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDaemon, makeBusyboxImage, type TestDaemon } from "../helpers/daemon.js";
import { eventually } from "../helpers/eventually.js";

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
});
after(async () => { await d?.stop(); });

test("containers outlive a SIGKILLed daemon and stay manageable after it restarts", async () => {
  const keeper = (await d.docker(["run", "-d", "--name", "keeper", "busybox", "sh", "-c", "echo before; while true; do sleep 0.1; done"])).stdout.trim();
  const quitter = (await d.docker(["run", "-d", "--name", "quitter", "busybox", "sh", "-c", "read x < /dev/null; sleep 1; exit 42"])).stdout.trim();
  const always = (await d.docker(["run", "-d", "--name", "always", "--restart", "always", "busybox", "sh", "-c", "sleep 1; exit 5"])).stdout.trim();
  const pidOf = async (id: string) => (await d.docker(["inspect", "-f", "{{.State.Pid}}", id])).stdout.trim();
  const pidBefore = await pidOf(keeper);
  assert.match(pidBefore, /^[1-9]\d*$/);
  const exiting = [await pidOf(quitter), await pidOf(always)].map(Number);

  await d.kill();
  // The container's own process is still alive with the daemon gone.
  assert.doesNotThrow(() => process.kill(Number(pidBefore), 0));
  // quitter and always exit while the daemon is down (a fixed wait may end before they do on a loaded machine).
  const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
  await eventually("quitter and always to exit", () => exiting.every((pid) => pid === 0 || !alive(pid)));
  await d.restart();

  const k = JSON.parse((await d.docker(["inspect", keeper])).stdout)[0];
  assert.equal(k.State.Status, "running");
  assert.equal(String(k.State.Pid), pidBefore);
  assert.match((await d.docker(["logs", keeper])).stdout, /^before\n/);

  const q = JSON.parse((await d.docker(["inspect", quitter])).stdout)[0];
  assert.equal(q.State.Status, "exited");
  assert.equal(q.State.ExitCode, 42);

  let a = "";
  await eventually("the restart policy to carry on", async () => Number(a = (await d.docker(["inspect", "-f", "{{.RestartCount}}", always])).stdout.trim()) >= 1, { seen: () => `RestartCount ${a}` });

  const t0 = Date.now();
  assert.equal((await d.docker(["stop", "-t", "1", keeper])).code, 0);
  assert.ok(Date.now() - t0 < 9000, "escalated to SIGKILL after the 1 s timeout");
  assert.equal((await d.docker(["inspect", "-f", "{{.State.Status}}", keeper])).stdout.trim(), "exited");
  assert.equal((await d.docker(["rm", "-f", keeper, quitter, always])).code, 0);
  assert.equal((await d.docker(["ps", "-aq"])).stdout.trim(), "");
});

test("a second daemon on the same data root is refused", async () => {
  const { spawnSync } = await import("node:child_process");
  const { BERTHD } = await import("../helpers/daemon.js");
  const r = spawnSync(process.execPath, [BERTHD, "--data-root", d.dataRoot, "--exec-root", d.execRoot, "--host", `unix://${d.root}/other.sock`], { encoding: "utf8", timeout: 10_000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /already running/);
});
