import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile, mkdir, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { promisify } from "node:util";
import tar from "tar-stream";
import { isKind } from "../errdefs/index.js";
import { createLogger } from "../util/index.js";
import { LocalContainersService } from "./containers-service.js";
import { LocalImagesService } from "./images-service.js";
import type { LogEntry } from "./types.js";

const run = promisify(execFile);
const REPO = new URL("../../../", import.meta.url).pathname;

async function collect(it: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

const text = (es: LogEntry[], stream?: string) => es.filter((e) => !stream || e.stream === stream).map((e) => e.data.toString()).join("");

async function tarEntries(s: Readable): Promise<Map<string, string>> {
  const ex = tar.extract();
  const out = new Map<string, string>();
  ex.on("entry", (h, body, next) => {
    const chunks: Buffer[] = [];
    body.on("data", (c: unknown) => { chunks.push(c as Buffer); });
    body.on("end", () => { out.set(h.name, h.type === "symlink" ? `-> ${h.linkname}` : Buffer.concat(chunks).toString()); next(); });
  });
  await new Promise<void>((resolve, reject) => { ex.on("finish", resolve); ex.on("error", reject); s.pipe(ex); });
  return out;
}

describe("LocalContainersService (runc + conmon)", { concurrency: false }, () => {
  let root: string;
  let images: LocalImagesService;
  let svc: LocalContainersService;
  const logger = createLogger("error");

  const open = () => LocalContainersService.open({ dataRoot: join(root, "data"), execRoot: join(root, "exec"), images, snapshotter: images.snapshotter, logger });

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "berth-ctr-"));
    images = await LocalImagesService.open({ dataRoot: join(root, "data"), logger });
    const tarPath = join(root, "busybox.tar");
    await run(process.execPath, [join(REPO, "scripts/busybox-rootfs.mjs"), tarPath]);
    await images.import(createReadStream(tarPath), { repo: "busybox", tag: "latest", changes: ['CMD ["sh"]'] });
    svc = await open();
  });

  after(async () => {
    try {
      for (const c of await svc.list({ all: true })) await svc.remove(c.Id, { force: true }).catch(() => {});
      await svc.close();
    } finally {
      const info = await readFile("/proc/self/mountinfo", "utf8");
      const mounts = info.split("\n").map((l) => l.split(" ")[4]).filter((p): p is string => !!p && p.startsWith(root)).sort((a, b) => b.length - a.length);
      for (const m of mounts) await run("umount", ["-l", m]).catch(() => {});
      await rm(root, { recursive: true, force: true });
    }
  });

  const runToExit = async (cmd: string[], extra: Record<string, unknown> = {}) => {
    const { Id } = await svc.create({ Image: "busybox", Cmd: cmd, ...extra });
    const waited = svc.wait(Id, "next-exit");
    await svc.start(Id);
    const { StatusCode } = await waited;
    return { Id, StatusCode };
  };

  test("echo to stdout and stderr, logs split by stream, exit code", async () => {
    const t0 = performance.now();
    const { Id, StatusCode } = await runToExit(["sh", "-c", "echo out; echo err >&2; printf partial; exit 3"]);
    const ms = performance.now() - t0;
    assert.equal(StatusCode, 3);
    const all = await collect(svc.logs(Id, {}));
    assert.equal(text(all, "stdout"), "out\npartial");
    assert.equal(text(all, "stderr"), "err\n");
    const tail = await collect(svc.logs(Id, { tail: 1, stderr: false }));
    assert.equal(text(tail), "partial");
    const info = await svc.inspect(Id);
    assert.equal(info.State.Status, "exited");
    assert.equal(info.State.ExitCode, 3);
    assert.notEqual(info.State.FinishedAt, "0001-01-01T00:00:00Z");
    assert.match(info.LogPath, /json\.log$/);
    const [summary] = await svc.list({ all: true, filters: { id: [Id] } });
    assert.match(summary!.Status, /^Exited \(3\) /);
    await svc.remove(Id);
    await assert.rejects(svc.inspect(Id), (e) => isKind(e, "not-found"));
    // A sanity bound only (speed is the bench's to measure): loose enough for a loaded 2-core CI machine.
    assert.ok(ms < 10_000, `create+start+wait took ${ms} ms`);
  });

  test("attach before start sees all output", async () => {
    const { Id } = await svc.create({ Image: "busybox", Cmd: ["sh", "-c", "for i in 1 2 3; do echo line$i; done"] });
    const att = collect(svc.attach(Id, { stream: true, stdout: true, stderr: true }));
    await svc.start(Id);
    assert.equal(text(await att), "line1\nline2\nline3\n");
    await svc.remove(Id);
  });

  test("stdin reaches the container through attach (-i), and EOF closes it", async () => {
    const { Id } = await svc.create({ Image: "busybox", Cmd: ["sh", "-c", "cat; echo done"], OpenStdin: true, StdinOnce: true, AttachStdin: true });
    const att = collect(svc.attach(Id, { stream: true, stdin: Readable.from([Buffer.from("fed in\n")]), stdout: true, stderr: true }));
    const w = svc.wait(Id, "next-exit");
    await svc.start(Id);
    assert.equal((await w).StatusCode, 0);
    assert.equal(text(await att), "fed in\ndone\n");
    await svc.remove(Id);
  });

  test("missing command fails start with 127 and Docker's message", async () => {
    const { Id } = await svc.create({ Image: "busybox", Cmd: ["nosuch"] });
    const att = collect(svc.attach(Id, { stream: true, stdout: true, stderr: true }));
    const w = svc.wait(Id, "next-exit");
    await assert.rejects(svc.start(Id), (e: Error) => isKind(e, "invalid-argument") && /executable file not found/.test(e.message));
    const info = await svc.inspect(Id);
    assert.equal(info.State.ExitCode, 127);
    assert.equal(info.State.Status, "created");
    assert.equal((await att).length, 0, "attach ends when start fails");
    assert.equal((await w).StatusCode, 127);
    await svc.remove(Id);
  });

  test("kill gives 137, stop with timeout escalates, status strings, pause/unpause", async () => {
    const { Id } = await svc.create({ Image: "busybox", Cmd: ["sleep", "1000"] });
    await svc.start(Id);
    await assert.rejects(svc.start(Id), (e) => isKind(e, "not-modified"));
    const [s] = await svc.list({ filters: { id: [Id] } });
    assert.match(s!.Status, /^Up /);
    await svc.pause(Id);
    assert.equal((await svc.inspect(Id)).State.Status, "paused");
    assert.match((await svc.list({ filters: { id: [Id] } }))[0]!.Status, /\(Paused\)$/);
    await svc.unpause(Id);
    const top = await svc.top(Id);
    assert.ok(top.Processes.some((p) => p.join(" ").includes("sleep 1000")), JSON.stringify(top));
    const w = svc.wait(Id);
    await svc.kill(Id);
    assert.equal((await w).StatusCode, 137);
    await assert.rejects(svc.kill(Id), (e: Error) => isKind(e, "conflict") && e.message === `Container ${Id} is not running`);
    await assert.rejects(svc.stop(Id), (e) => isKind(e, "not-modified"));
    // sh ignores SIGTERM as pid 1 without a handler: stop must escalate to SIGKILL after the timeout.
    await svc.start(Id);
    const t0 = Date.now();
    await svc.stop(Id, { timeout: 1 });
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 9000, `stop took ${took}`);
    assert.equal((await svc.inspect(Id)).State.ExitCode, 137);
    await svc.remove(Id);
  });

  test("stop with a handled SIGTERM exits 143 quickly; restart; rm -f of a running container", async () => {
    const { Id } = await svc.create({ Image: "busybox", Cmd: ["sh", "-c", "trap 'exit 143' TERM; echo trapped; while true; do sleep 0.1; done"] });
    await svc.start(Id);
    // A TERM that reaches sh (pid 1) before its trap is ignored and stop ends in SIGKILL: wait for the trap, not a fixed time.
    for (const deadline = Date.now() + 30_000; !text(await collect(svc.logs(Id, {}))).includes("trapped\n");) {
      assert.ok(Date.now() < deadline, "the trap was never set");
      await new Promise((r) => setTimeout(r, 50));
    }
    await svc.stop(Id, { timeout: 5 });
    assert.equal((await svc.inspect(Id)).State.ExitCode, 143);
    await svc.restart(Id, { timeout: 1 });
    assert.equal((await svc.inspect(Id)).State.Status, "running");
    await assert.rejects(svc.remove(Id), (e: Error) => isKind(e, "conflict") && /container is running: stop the container before removing or force remove/.test(e.message));
    await svc.remove(Id, { force: true });
    assert.equal((await svc.list({ all: true, filters: { id: [Id] } })).length, 0);
  });

  test("names: explicit, duplicate conflict, invalid, lookup by name and prefix, rename", async () => {
    const { Id } = await svc.create({ Image: "busybox", Cmd: ["true"] }, { name: "web" });
    await assert.rejects(svc.create({ Image: "busybox", Cmd: ["true"] }, { name: "web" }),
      (e: Error) => isKind(e, "conflict") && e.message.startsWith(`Conflict. The container name "/web" is already in use by container "${Id}"`));
    await assert.rejects(svc.create({ Image: "busybox" }, { name: "-bad" }), (e) => isKind(e, "invalid-argument"));
    assert.equal((await svc.inspect("web")).Id, Id);
    assert.equal((await svc.inspect("/web")).Id, Id);
    assert.equal((await svc.inspect(Id.slice(0, 10))).Id, Id);
    await svc.rename("web", "web2");
    assert.equal((await svc.inspect("web2")).Name, "/web2");
    await assert.rejects(svc.inspect("web"), (e: Error) => isKind(e, "not-found") && e.message === "No such container: web");
    const anon = await svc.create({ Image: "busybox", Cmd: ["true"] });
    assert.match((await svc.inspect(anon.Id)).Name, /^\/[a-z]+_[a-z]+\d?$/);
    await svc.remove(Id);
    await svc.remove(anon.Id);
  });

  test("list filters, sizes, update, prune", async () => {
    const a = await runToExit(["sh", "-c", "echo x > /f; exit 2"], { Labels: { tier: "a" } });
    const b = await svc.create({ Image: "busybox", Cmd: ["sleep", "1000"], Labels: { tier: "b" } }, { name: "lister" });
    await svc.start(b.Id);
    const ids = async (f: Record<string, string[]>, all = true) => (await svc.list({ all, filters: f })).map((c) => c.Id);
    assert.deepEqual(await ids({ status: ["running"] }), [b.Id]);
    assert.deepEqual(await ids({ exited: ["2"] }), [a.Id]);
    assert.deepEqual(await ids({ label: ["tier=a"] }), [a.Id]);
    assert.deepEqual(await ids({ label: ["tier"] }), [b.Id, a.Id]);
    assert.deepEqual(await ids({ name: ["^lister$"] }), [b.Id]);
    assert.deepEqual(await ids({ ancestor: ["busybox"] }), [b.Id, a.Id]);
    assert.deepEqual(await ids({ since: [a.Id] }), [b.Id]);
    assert.deepEqual(await ids({}, false), [b.Id]);
    await assert.rejects(svc.list({ filters: { bogus: ["1"] } }), (e) => isKind(e, "invalid-argument"));
    const [sized] = await svc.list({ all: true, size: true, filters: { id: [a.Id] } });
    assert.ok(sized!.SizeRw! > 0 && sized!.SizeRootFs! > sized!.SizeRw!);
    await svc.update(b.Id, { RestartPolicy: { Name: "unless-stopped" }, Memory: 64 * 1024 * 1024 });
    const ib = await svc.inspect(b.Id);
    assert.equal(ib.HostConfig.RestartPolicy?.Name, "unless-stopped");
    assert.equal(ib.HostConfig.Memory, 64 * 1024 * 1024);
    assert.deepEqual((await svc.containersUsing(ib.Image)).map((u) => u.running).sort(), [false, true]);
    const pruned = await svc.prune();
    assert.deepEqual(pruned.ContainersDeleted, [a.Id]);
    await svc.remove(b.Id, { force: true });
  });

  test("wait removed with AutoRemove returns the exit code and the container is gone", async () => {
    const { Id } = await svc.create({ Image: "busybox", Cmd: ["sh", "-c", "exit 4"], HostConfig: { AutoRemove: true } });
    const w = svc.wait(Id, "removed");
    await svc.start(Id);
    assert.equal((await w).StatusCode, 4);
    await assert.rejects(svc.inspect(Id), (e) => isKind(e, "not-found"));
  });

  test("restart policy on-failure:2 restarts twice", async () => {
    const { Id } = await svc.create({ Image: "busybox", Cmd: ["sh", "-c", "echo run; exit 1"], HostConfig: { RestartPolicy: { Name: "on-failure", MaximumRetryCount: 2 } } });
    await svc.start(Id);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const i = await svc.inspect(Id);
      if (i.RestartCount === 2 && i.State.Status === "exited") break;
      assert.ok(Date.now() < deadline, `restart count ${i.RestartCount} status ${i.State.Status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500));
    const i = await svc.inspect(Id);
    assert.equal(i.RestartCount, 2);
    assert.equal(i.State.ExitCode, 1);
    assert.equal(text(await collect(svc.logs(Id, {}))), "run\nrun\nrun\n");
    await svc.remove(Id);
  });

  test("cp in and out, symlink escape stays inside, export, diff, commit", async () => {
    const { Id } = await svc.create({ Image: "busybox", Cmd: ["sh", "-c", "echo hi > /tmp/made; ln -s /etc/passwd /tmp/link; ln -s ../../../../../../../etc /tmp/esc"] });
    const w = svc.wait(Id, "next-exit");
    await svc.start(Id);
    assert.equal((await w).StatusCode, 0);
    // put a file into a stopped container
    const pack = tar.pack();
    pack.entry({ name: "hello.txt" }, "hello\n");
    pack.finalize();
    await svc.putArchive(Id, "/root", pack as unknown as Readable);
    // a path through a symlink pointing outside resolves inside the rootfs
    const escape = tar.pack();
    escape.entry({ name: "pwned" }, "x");
    escape.finalize();
    await svc.putArchive(Id, "/tmp/esc", escape as unknown as Readable);
    await assert.rejects(readFile("/etc/pwned"), { code: "ENOENT" });
    const st = await svc.statPath(Id, "/tmp/made");
    assert.equal(st.name, "made");
    assert.equal(st.size, 3);
    const out = new PassThrough();
    const files = tarEntries(out);
    await svc.getArchive(Id, "/root/hello.txt", out);
    assert.equal((await files).get("hello.txt"), "hello\n");
    const lst = await svc.statPath(Id, "/tmp/link").catch(async (e) => { throw new Error(`${e.message} ${JSON.stringify(await svc.changes(Id))} ${text(await collect(svc.logs(Id, {})))}`); });
    assert.equal(lst.linkTarget, "/etc/passwd");
    await assert.rejects(svc.statPath(Id, "/nope"), (e) => isKind(e, "not-found"));
    const changes = await svc.changes(Id);
    const paths = changes.map((c) => `${c.Kind}${c.Path}`);
    assert.ok(paths.includes("1/tmp/made"), paths.join(","));
    assert.ok(paths.includes("1/root/hello.txt"), paths.join(","));
    const exp = new PassThrough();
    const expFiles = tarEntries(exp);
    await svc.export(Id, exp);
    const ef = await expFiles;
    assert.equal(ef.get("tmp/made"), "hi\n");
    assert.ok(ef.has("bin/busybox"));
    const imageId = await svc.commit(Id, { repo: "committed", tag: "v1", changes: ['CMD ["cat", "/tmp/made"]'] });
    assert.match(imageId, /^sha256:/);
    const layerNames = [...(await tarEntries((await import("../images/layer/index.js")).packDiff(await images.snapshotter.dir(Id)) as Readable)).keys()];
    assert.ok(layerNames.some((n) => n.includes("etc/hostname")), "runc made the placeholder in the upper dir");
    const hist = await images.inspect("committed:v1");
    assert.equal(hist.RootFS.Layers.length, 2);
    const r2 = await runToExit([], { Image: "committed:v1" });
    const r2changes = await svc.changes(r2.Id);
    assert.ok(!r2changes.some((c) => c.Path === "/etc/hostname"));
    assert.equal(r2.StatusCode, 0);
    assert.equal(text(await collect(svc.logs(r2.Id, {}))), "hi\n");
    await svc.remove(r2.Id);
    await svc.remove(Id);
  });

  test("user, env, workdir, hostname, init and read-only rootfs reach the process", async () => {
    await mkdir(join(root, "bindsrc"), { recursive: true });
    await writeFile(join(root, "bindsrc", "f"), "bound\n");
    await symlink("/etc/shadow", join(root, "bindsrc", "l")).catch(() => {});
    const { Id, StatusCode } = await runToExit(
      ["sh", "-c", "id -u; id -g; echo $FOO; pwd; hostname; cat /etc/hostname; cat /data/f; cat /etc/resolv.conf; touch /x 2>/dev/null || echo ro; ps -o pid,comm | head -3"],
      { User: "nobody", Env: ["FOO=bar"], WorkingDir: "/tmp", Hostname: "box", HostConfig: { Binds: [`${join(root, "bindsrc")}:/data:ro`], ReadonlyRootfs: true, Init: true } },
    );
    assert.equal(StatusCode, 0);
    const out = text(await collect(svc.logs(Id, {}))).split("\n");
    assert.deepEqual(out.slice(0, 8), ["65534", "65534", "bar", "/tmp", "box", "box", "bound", "nameserver 127.0.0.11"]);
    assert.equal(out[8], "ro");
    assert.match(out[10] ?? "", /^\s*1 (docker-init|tini|catatonit)/);
    const info = await svc.inspect(Id);
    assert.equal(info.Mounts[0]?.Destination, "/data");
    assert.equal(info.Mounts[0]?.RW, false);
    await svc.remove(Id);
  });

  test("daemon restart: running container survives and stays stoppable; exit while closed is recorded", async () => {
    const a = await svc.create({ Image: "busybox", Cmd: ["sleep", "1000"] });
    const b = await svc.create({ Image: "busybox", Cmd: ["sh", "-c", "sleep 0.5; exit 7"] });
    await svc.start(a.Id);
    await svc.start(b.Id);
    const bPid = (await svc.inspect(b.Id)).State.Pid;
    await svc.close();
    // b exits while the service is closed: wait for its process to go (a fixed wait may be too short on a loaded machine).
    const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
    for (const deadline = Date.now() + 30_000; bPid > 0 && alive(bPid);) {
      assert.ok(Date.now() < deadline, "b never exited");
      await new Promise((r) => setTimeout(r, 50));
    }
    svc = await open();
    await svc.restore();
    const ia = await svc.inspect(a.Id);
    assert.equal(ia.State.Status, "running");
    const ib = await svc.inspect(b.Id);
    assert.equal(ib.State.Status, "exited");
    assert.equal(ib.State.ExitCode, 7);
    await svc.stop(a.Id, { timeout: 1 });
    assert.equal((await svc.inspect(a.Id)).State.Status, "exited");
    await svc.remove(a.Id);
    await svc.remove(b.Id);
  });

  test("daemon killed mid-start: a record still saying created is adopted as running", async () => {
    const { Id } = await svc.create({ Image: "busybox", Cmd: ["sleep", "1000"] });
    const dir = join(root, "data", "containers", Id);
    const before = await readFile(join(dir, "config.v2.json"), "utf8");
    await svc.start(Id);
    await svc.close();
    await writeFile(join(dir, "config.v2.json"), before); // as if the "running" write never happened
    svc = await open();
    await svc.restore();
    const i = await svc.inspect(Id);
    assert.equal(i.State.Status, "running");
    assert.ok(i.State.Pid > 0);
    await svc.remove(Id, { force: true });
    assert.equal((await svc.list({ all: true })).length, 0);
  });

  test("a directory without a record (killed mid-create) is dropped on open", async () => {
    const id = "f".repeat(64);
    await mkdir(join(root, "data", "containers", id, "bundle", "rootfs"), { recursive: true });
    await svc.close();
    svc = await open();
    await assert.rejects(readFile(join(root, "data", "containers", id, "x")), { code: "ENOENT" });
    await assert.rejects(import("node:fs/promises").then((fs) => fs.stat(join(root, "data", "containers", id))), { code: "ENOENT" });
  });
});
