import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDaemon, run, REPO, type TestDaemon } from "../helpers/daemon.js";
import { eventually } from "../helpers/eventually.js";

let d: TestDaemon;
before(async () => { d = await startDaemon(); });
after(async () => { await d?.stop(); });

test("berth import, run, ps, logs, inspect, rm and images, as the README shows", async () => {
  const tarPath = join(d.root, "bb.tar");
  assert.equal((await run(process.execPath, [join(REPO, "scripts/busybox-rootfs.mjs"), tarPath])).code, 0);
  const imp = await d.berth(["import", "--change", 'CMD ["sh"]', tarPath, "busybox:latest"]);
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stdout.trim(), /^sha256:[0-9a-f]{64}$/);

  const hello = await d.berth(["run", "--rm", "busybox", "echo", "hello from berth"]);
  assert.equal(hello.code, 0, hello.stderr);
  assert.equal(hello.stdout, "hello from berth\n");

  assert.equal((await d.berth(["run", "--rm", "busybox", "sh", "-c", "exit 9"])).code, 9);
  assert.equal((await d.berth(["run", "--rm", "busybox", "nosuchcmd"])).code, 127);

  const id = (await d.berth(["run", "-d", "--name", "svc", "busybox", "sh", "-c", "echo started; sleep 60"])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const ps = await d.berth(["ps"]);
  assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n/);
  assert.match(ps.stdout, /svc\n/);
  assert.equal((await d.berth(["ps", "-q"])).stdout.trim(), id.slice(0, 12));
  assert.equal((await d.berth(["inspect", "-f", "{{.State.Status}}", "svc"])).stdout.trim(), "running");
  assert.equal((await d.berth(["container", "ls", "--format", "{{.Names}}"])).stdout.trim(), "svc");
  // run -d returns once the process is started, not once it has printed: wait for the line, then check it is all.
  const logs = await eventually("the log line of svc", async () => { const r = await d.berth(["logs", "svc"]); return r.stdout !== "" && r; });
  assert.equal(logs.stdout, "started\n");
  const rm = await d.berth(["rm", "svc"]);
  assert.notEqual(rm.code, 0);
  assert.equal((await d.berth(["rm", "-f", "svc"])).code, 0);

  const images = await d.berth(["images"]);
  assert.match(images.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n/);
  assert.match(images.stdout, /busybox\s+latest/);
  const json = await d.berth(["images", "--format", "{{json .}}"]);
  assert.equal(JSON.parse(json.stdout.trim().split("\n")[0]!).Repository, "busybox");
});

test("berth version and info talk to the daemon; a missing daemon is a clear error", async () => {
  const v = await d.berth(["version"]);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /Server/);
  assert.equal((await d.berth(["info"])).code, 0);
  const gone = await run(process.execPath, [join(REPO, "bin/berth"), "-H", `unix://${d.root}/nothing.sock`, "ps"]);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /Cannot connect to the Berth daemon at unix:\/\/.*nothing\.sock\. Is berthd running\?/);
});
