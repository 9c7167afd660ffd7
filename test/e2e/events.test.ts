import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDaemon, makeBusyboxImage, type TestDaemon } from "../helpers/daemon.js";

interface Ev { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> }; time: number; timeNano: number }

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
});
after(async () => { await d?.stop(); });

const ok = async (args: string[], input?: string) => {
  const r = await d.docker(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}\n${d.logs().slice(-2000)}`);
  return r.stdout.trim();
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every event from since (Unix seconds, fractional) until now, through the API's replay. */
async function eventsSince(since: number, filters: Record<string, string[]> = {}): Promise<Ev[]> {
  const q = `since=${since}&until=${Date.now() / 1000}&filters=${encodeURIComponent(JSON.stringify(filters))}`;
  const r = await d.api("GET", `/events?${q}`);
  assert.equal(r.status, 200, r.body);
  return r.body.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Ev);
}

/** Waits until the events since `since` contain every wanted action (in order) or fails with what came. */
async function expectActions(since: number, filters: Record<string, string[]>, wanted: string[]): Promise<Ev[]> {
  let evs: Ev[] = [];
  for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
    evs = await eventsSince(since, filters);
    if (isSubsequence(wanted, evs.map((e) => e.Action))) return evs;
    await sleep(50);
  }
  assert.fail(`wanted ${wanted.join(",")} in order; got ${evs.map((e) => `${e.Type}:${e.Action}`).join(",")}`);
}

function isSubsequence(want: string[], got: string[]): boolean {
  let i = 0;
  for (const g of got) if (g === want[i]) i++;
  return i === want.length;
}

test("container events come from the service: lifecycle with Docker's actor attributes", async () => {
  const since = Date.now() / 1000;
  const id = await ok(["run", "-d", "--name", "ev1", "--label", "team=a", "busybox", "sleep", "1000"]);
  await ok(["pause", "ev1"]);
  await ok(["unpause", "ev1"]);
  await ok(["rename", "ev1", "ev2"]);
  await ok(["top", "ev2"]);
  await ok(["update", "--cpu-shares", "512", "ev2"]);
  await ok(["stop", "-t", "1", "ev2"]);
  await ok(["restart", "-t", "0", "ev2"]);
  await ok(["kill", "-s", "USR1", "ev2"]);
  await ok(["commit", "ev2", "committed:1"]);
  await ok(["rm", "-f", "ev2"]);
  const evs = await expectActions(since, { type: ["container"], container: [id] },
    ["create", "start", "pause", "unpause", "rename", "top", "update", "kill", "die", "stop", "start", "restart", "kill", "commit", "kill", "die", "destroy"]);
  for (const e of evs) {
    assert.equal(e.Actor.ID, id);
    assert.equal(e.Actor.Attributes.image, "busybox");
    assert.equal(e.Actor.Attributes.team, "a", `${e.Action} lacks the container's labels`);
  }
  const by = (a: string) => evs.filter((e) => e.Action === a);
  assert.equal(by("create")[0]!.Actor.Attributes.name, "ev1");
  assert.equal(by("rename")[0]!.Actor.Attributes.oldName, "/ev1");
  assert.equal(by("rename")[0]!.Actor.Attributes.name, "ev2");
  assert.equal(by("kill")[0]!.Actor.Attributes.signal, "15");
  assert.ok(by("kill").some((e) => e.Actor.Attributes.signal === "10"), "kill -s USR1 reports signal 10");
  // sleep as PID 1 ignores SIGTERM: stop escalates to SIGKILL.
  assert.equal(by("die")[0]!.Actor.Attributes.exitCode, "137");
  assert.match(by("commit")[0]!.Actor.Attributes.imageID!, /^sha256:[0-9a-f]{64}$/);
  assert.equal(by("destroy").length, 1);
});

test("restart-policy restarts and --rm removals report start, die and destroy without any API call", async () => {
  const since = Date.now() / 1000;
  const id = await ok(["run", "-d", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 3"]);
  const evs = await expectActions(since, { container: [id] }, ["create", "start", "die", "start", "die", "start", "die"]);
  const dies = evs.filter((e) => e.Action === "die");
  assert.equal(dies.length, 3, evs.map((e) => e.Action).join(","));
  assert.ok(dies.every((e) => e.Actor.Attributes.exitCode === "3"));
  await ok(["rm", id]);

  const since2 = Date.now() / 1000;
  await ok(["run", "--rm", "--name", "gone", "busybox", "true"]);
  await expectActions(since2, { container: ["gone"] }, ["create", "attach", "start", "die", "destroy"]);
});

test("network events: create, connect at start, disconnect/connect, disconnect at exit, destroy", async () => {
  const since = Date.now() / 1000;
  const netId = await ok(["network", "create", "evnet"]);
  const cid = await ok(["run", "-d", "--network", "evnet", "--name", "netc", "busybox", "sleep", "1000"]);
  await ok(["network", "disconnect", "evnet", "netc"]);
  await ok(["network", "connect", "evnet", "netc"]);
  await ok(["rm", "-f", "netc"]);
  await ok(["network", "rm", "evnet"]);
  const evs = await expectActions(since, { type: ["network"], network: ["evnet"] }, ["create", "connect", "disconnect", "connect", "disconnect", "destroy"]);
  for (const e of evs) {
    assert.equal(e.Actor.ID, netId);
    assert.equal(e.Actor.Attributes.name, "evnet");
    assert.equal(e.Actor.Attributes.type, "bridge");
    if (e.Action === "connect" || e.Action === "disconnect") assert.equal(e.Actor.Attributes.container, cid);
  }
});

test("volume events: create, mount at start, unmount at exit, destroy", async () => {
  const since = Date.now() / 1000;
  await ok(["volume", "create", "evvol"]);
  const cid = await ok(["run", "-d", "-v", "evvol:/data:ro", "busybox", "true"]);
  await ok(["wait", cid]);
  await ok(["rm", cid]);
  await ok(["volume", "rm", "evvol"]);
  const evs = await expectActions(since, { type: ["volume"], volume: ["evvol"] }, ["create", "mount", "unmount", "destroy"]);
  assert.ok(evs.every((e) => e.Actor.ID === "evvol" && e.Actor.Attributes.driver === "local"));
  const mount = evs.find((e) => e.Action === "mount")!;
  assert.equal(mount.Actor.Attributes.container, cid);
  assert.equal(mount.Actor.Attributes.destination, "/data");
  assert.equal(mount.Actor.Attributes["read/write"], "false");
});

test("image events: tag, untag, delete, save, load, import", async () => {
  const since = Date.now() / 1000;
  const bbId = (await ok(["image", "inspect", "-f", "{{.Id}}", "busybox"]));
  await ok(["tag", "busybox", "evimg:1"]);
  await ok(["rmi", "evimg:1"]);
  const tar = join(d.root, "evsave.tar");
  await ok(["save", "-o", tar, "busybox"]);
  await ok(["load", "-i", tar]);
  const exported = join(d.root, "evexport.tar");
  const cid = await ok(["create", "busybox"]);
  await ok(["export", "-o", exported, cid]);
  await ok(["rm", cid]);
  const imported = await ok(["import", exported, "evimported:1"]);
  await ok(["rmi", "evimported:1"]);
  const evs = await expectActions(since, { type: ["image"] }, ["tag", "untag", "save", "load", "import", "untag", "delete"]);
  const tag = evs.find((e) => e.Action === "tag")!;
  assert.equal(tag.Actor.ID, bbId);
  assert.equal(tag.Actor.Attributes.name, "evimg:1");
  assert.equal(evs.find((e) => e.Action === "save")!.Actor.ID, bbId);
  assert.equal(evs.find((e) => e.Action === "load")!.Actor.ID, bbId);
  assert.equal(evs.find((e) => e.Action === "import")!.Actor.ID, imported);
  assert.equal(evs.find((e) => e.Action === "delete")!.Actor.ID, imported);
  const exp = await eventsSince(since, { type: ["container"], event: ["export"] });
  assert.equal(exp.length, 1);
  assert.equal(exp[0]!.Actor.ID, cid);
});

test("builder containers report their events too", async () => {
  const since = Date.now() / 1000;
  await ok(["build", "-q", "-t", "evbuilt", "-"], "FROM busybox\nRUN echo hi > /hi\n");
  await expectActions(since, { type: ["container"] }, ["create", "attach", "start", "die", "destroy"]);
});

test("daemon reload: SIGHUP reports a daemon reload event with the engine id", async () => {
  const since = Date.now() / 1000;
  d.proc.kill("SIGHUP");
  const evs = await expectActions(since, { type: ["daemon"] }, ["reload"]);
  const info = JSON.parse((await d.api("GET", "/info")).body) as { ID: string; Name: string };
  assert.equal(evs[0]!.Actor.ID, info.ID);
  assert.equal(evs[0]!.Actor.Attributes.name, info.Name);
});
