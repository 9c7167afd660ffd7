import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { writeFile, readFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, makeBusyboxImage, removeAllContainers, run, type TestDaemon } from "../helpers/daemon.js";
import { eventually } from "../helpers/eventually.js";

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
});
after(async () => { await d?.stop(); });
afterEach(() => removeAllContainers(d));

/** Waits until the container's log has the line its command prints once its signal trap is in place. */
const logged = (ref: string, line: string) =>
  eventually(`"${line}" in the logs of ${ref}`, async () => (await d.docker(["logs", ref])).stdout.split("\n").includes(line));

test("docker run prints the container's output and removes it with --rm", async () => {
  const r = await d.docker(["run", "--rm", "busybox", "echo", "hello from berth"]);
  assert.equal(r.code, 0, r.stderr + d.logs());
  assert.equal(r.stdout, "hello from berth\n");
  assert.equal((await d.docker(["ps", "-aq"])).stdout.trim(), "");
});

test("exit codes follow Docker: own, 125, 126, 127, 137", async () => {
  assert.equal((await d.docker(["run", "--rm", "busybox", "sh", "-c", "exit 3"])).code, 3);
  const notFound = await d.docker(["run", "--rm", "busybox", "nosuchcommand"]);
  assert.equal(notFound.code, 127, notFound.stderr);
  const notExec = await d.docker(["run", "--rm", "busybox", "/etc/passwd"]);
  assert.equal(notExec.code, 126, notExec.stderr);
  const refused = await d.docker(["run", "--rm", "--name", "bad name!", "busybox", "true"]);
  assert.equal(refused.code, 125);
  assert.match(refused.stderr, /Invalid container name/);
  const k = await d.docker(["run", "-d", "busybox", "sleep", "100"]);
  const id = k.stdout.trim();
  assert.equal((await d.docker(["kill", id])).code, 0);
  const w = await d.docker(["wait", id]);
  assert.equal(w.stdout.trim(), "137");
  await d.docker(["rm", id]);
});

test("stdout and stderr stay apart, in run and in logs", async () => {
  const r = await d.docker(["run", "--name", "streams", "busybox", "sh", "-c", "echo out; echo err >&2"]);
  assert.equal(r.stdout, "out\n");
  assert.equal(r.stderr, "err\n");
  const l = await d.docker(["logs", "streams"]);
  assert.equal(l.stdout, "out\n");
  assert.equal(l.stderr, "err\n");
  const t = await d.docker(["logs", "-t", "--tail", "1", "streams"]);
  assert.match(t.stdout + t.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z (out|err)\n$/);
  await d.docker(["rm", "streams"]);
});

test("detached lifecycle: ps, inspect, logs -f, stop, start, restart, pause", async () => {
  const r = await d.docker(["run", "-d", "--name", "web", "-l", "tier=front", "-e", "FOO=bar", "-w", "/tmp", "-h", "box",
    "busybox", "sh", "-c", "trap 'echo bye; exit 0' TERM; echo up; while true; do sleep 0.1; done"]);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  await logged("web", "up");
  const ps = await d.docker(["ps"]);
  assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES/);
  assert.match(ps.stdout, new RegExp(`${id.slice(0, 12)}\\s+busybox\\s+"sh -c 'trap.*Up .*web`));
  assert.equal((await d.docker(["ps", "-q", "--filter", "label=tier=front"])).stdout.trim(), id.slice(0, 12));
  assert.equal((await d.docker(["ps", "-q", "--filter", "name=nomatch"])).stdout.trim(), "");
  const [info] = JSON.parse((await d.docker(["inspect", "web"])).stdout);
  assert.equal(info.Id, id);
  assert.equal(info.Name, "/web");
  assert.equal(info.State.Status, "running");
  assert.equal(info.State.Running, true);
  assert.ok(info.State.Pid > 0);
  assert.ok(info.Config.Env.includes("FOO=bar"));
  assert.equal(info.Config.WorkingDir, "/tmp");
  assert.equal(info.Config.Hostname, "box");
  assert.equal(info.Config.Labels.tier, "front");
  assert.equal((await d.docker(["inspect", "-f", "{{.State.Status}}", id.slice(0, 5)])).stdout.trim(), "running");

  assert.equal((await d.docker(["pause", "web"])).code, 0);
  assert.equal((await d.docker(["inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "web"])).stdout.trim(), "paused true");
  assert.equal((await d.docker(["unpause", "web"])).code, 0);

  const started = Date.now();
  const stop = await d.docker(["stop", "web"]);
  assert.equal(stop.code, 0, stop.stderr);
  // The default timeout is 10 s: well under it, the trap (not the SIGKILL) ended it, even on a loaded machine.
  assert.ok(Date.now() - started < 8000, "the TERM trap ends it before the timeout");
  const st = JSON.parse((await d.docker(["inspect", "web"])).stdout)[0].State;
  assert.equal(st.Status, "exited");
  assert.equal(st.ExitCode, 0);
  assert.match((await d.docker(["logs", "web"])).stdout, /up\n(.|\n)*bye\n/);
  assert.match((await d.docker(["ps", "-a", "--filter", "status=exited", "--format", "{{.Names}} {{.Status}}"])).stdout, /web Exited \(0\)/);

  assert.equal((await d.docker(["start", "web"])).code, 0);
  assert.equal((await d.docker(["restart", "-t", "1", "web"])).code, 0);
  assert.equal((await d.docker(["inspect", "-f", "{{.State.Running}}", "web"])).stdout.trim(), "true");
  const rmRunning = await d.docker(["rm", "web"]);
  assert.notEqual(rmRunning.code, 0);
  assert.match(rmRunning.stderr, /container is running|cannot remove/i);
  assert.equal((await d.docker(["rm", "-f", "web"])).code, 0);
  assert.equal((await d.api("GET", `/containers/${id}/json`)).status, 404);
});

test("stop sends SIGKILL after the timeout and records 137", async () => {
  const id = (await d.docker(["run", "-d", "busybox", "sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"])).stdout.trim();
  const t0 = Date.now();
  assert.equal((await d.docker(["stop", "-t", "1", id])).code, 0);
  const took = Date.now() - t0;
  assert.ok(took >= 900 && took < 9000, `took ${took} ms`);
  assert.equal((await d.docker(["inspect", "-f", "{{.State.ExitCode}}", id])).stdout.trim(), "137");
  await d.docker(["rm", id]);
});

test("logs -f follows until the container exits", async () => {
  const id = (await d.docker(["run", "-d", "busybox", "sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.2; done"])).stdout.trim();
  const f = await d.docker(["logs", "-f", id]);
  assert.equal(f.stdout, "line1\nline2\nline3\n");
  await d.docker(["rm", id]);
});

test("Docker's secure defaults: capabilities, seccomp, masked /proc, read-only /sys", async () => {
  const caps = await d.docker(["run", "--rm", "busybox", "grep", "-E", "^(CapEff|Seccomp):", "/proc/self/status"]);
  assert.match(caps.stdout, /CapEff:\s+00000000a80425fb/);
  assert.match(caps.stdout, /Seccomp:\s+2/);
  const masked = await d.docker(["run", "--rm", "busybox", "sh", "-c", "wc -c < /proc/timer_list"]);
  assert.equal(masked.stdout.trim(), "0", "masked /proc paths read as /dev/null");
  const sys = await d.docker(["run", "--rm", "busybox", "sh", "-c", "touch /sys/x 2>&1; echo rc=$?"]);
  assert.match(sys.stdout, /Read-only file system/);
  const priv = await d.docker(["run", "--rm", "--privileged", "busybox", "grep", "-E", "^(CapEff|Seccomp):", "/proc/self/status"]);
  const hostBounding = /CapBnd:\s+([0-9a-f]+)/.exec(await readFile("/proc/self/status", "utf8"))![1];
  assert.match(priv.stdout, new RegExp(`CapEff:\\s+${hostBounding}`), "privileged gets every capability the host can give");
  assert.match(priv.stdout, /Seccomp:\s+0/);
  const drop = await d.docker(["run", "--rm", "--cap-drop", "ALL", "--cap-add", "NET_RAW", "busybox", "grep", "CapEff", "/proc/self/status"]);
  assert.match(drop.stdout, /CapEff:\s+0000000000002000/);
  const ro = await d.docker(["run", "--rm", "--read-only", "--tmpfs", "/scratch", "busybox", "sh", "-c", "touch /x 2>/dev/null || echo ro; touch /scratch/y && echo tmpfs-ok"]);
  assert.equal(ro.stdout, "ro\ntmpfs-ok\n");
  const user = await d.docker(["run", "--rm", "-u", "65534:65534", "busybox", "id"]);
  assert.match(user.stdout, /uid=65534\(nobody\) gid=65534\(nogroup\)/);
  const nobody = await d.docker(["run", "--rm", "-u", "nobody", "busybox", "id", "-u"]);
  assert.equal(nobody.stdout.trim(), "65534");
  const host = await d.docker(["run", "--rm", "busybox", "cat", "/etc/hostname", "/etc/resolv.conf"]);
  assert.match(host.stdout, /^[0-9a-f]{12}\n/);
  assert.doesNotMatch(host.stdout, await readFile("/etc/resolv.conf", "utf8").then((s) => /nameserver\s+(\S+)/.exec(s)?.[1] ?? "never-matches").then((ns) => new RegExp(`nameserver ${ns.replace(/\./g, "\\.")}\\b`)));
});

test("entrypoint, init and stop signal", async () => {
  const e = await d.docker(["run", "--rm", "--entrypoint", "echo", "busybox", "a", "b"]);
  assert.equal(e.stdout, "a b\n");
  const init = await d.docker(["run", "--rm", "--init", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"]);
  assert.match(init.stdout, /docker-init -- sh/);
  // A USR1 that reached sh (pid 1) before its trap would be ignored, and stop would end in SIGKILL: wait for the trap.
  const id = (await d.docker(["run", "-d", "--stop-signal", "USR1", "busybox", "sh", "-c", "trap 'exit 7' USR1; echo trapped; while true; do sleep 0.1; done"])).stdout.trim();
  await logged(id, "trapped");
  await d.docker(["stop", id]);
  assert.equal((await d.docker(["inspect", "-f", "{{.State.ExitCode}}", id])).stdout.trim(), "7");
  await d.docker(["rm", id]);
});

test("restart policy on-failure:2 restarts twice, always survives its exit", async () => {
  const id = (await d.docker(["run", "-d", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 1"])).stdout.trim();
  let count = "";
  await eventually("two restarts, then exited", async () => (count = (await d.docker(["inspect", "-f", "{{.RestartCount}} {{.State.Status}}", id])).stdout.trim()) === "2 exited", { seen: () => count });
  await d.docker(["rm", "-f", id]);
});

test("wait, rename, top, diff, export, commit", async () => {
  const id = (await d.docker(["run", "-d", "--name", "work", "busybox", "sh", "-c", "echo data > /created.txt; rm /etc/group; sleep 100"])).stdout.trim();
  // The changes are made by the time sleep runs: wait for that rather than for a fixed time.
  await eventually("the changes made in work", async () => (await d.docker(["exec", "work", "sh", "-c", "test -f /created.txt && ! test -e /etc/group"])).code === 0);
  assert.equal((await d.docker(["rename", "work", "work2"])).code, 0);
  assert.equal((await d.docker(["inspect", "-f", "{{.Name}}", id])).stdout.trim(), "/work2");
  const top = await d.docker(["top", "work2"]);
  assert.match(top.stdout, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD/);
  assert.match(top.stdout, /sleep 100/);
  const diff = await d.docker(["diff", "work2"]);
  assert.match(diff.stdout, /^A \/created\.txt$/m);
  assert.match(diff.stdout, /^D \/etc\/group$/m);
  assert.match(diff.stdout, /^C \/etc$/m);
  const c = await d.docker(["commit", "-c", "CMD [\"cat\", \"/created.txt\"]", "-m", "snapshot", "work2", "committed:1"]);
  assert.equal(c.code, 0, c.stderr);
  const out = await d.docker(["run", "--rm", "committed:1"]);
  assert.equal(out.stdout, "data\n");
  const gone = await d.docker(["run", "--rm", "committed:1", "ls", "/etc/group"]);
  assert.notEqual(gone.code, 0, "the deletion is in the committed layer");
  const exp = join(d.root, "export.tar");
  assert.equal((await d.docker(["export", "-o", exp, "work2"])).code, 0);
  const list = await run("tar", ["tf", exp]);
  assert.match(list.stdout, /^created\.txt$/m);
  assert.match(list.stdout, /^bin\/busybox$/m);
  const waiter = d.docker(["wait", "work2"]);
  await d.docker(["kill", "work2"]);
  assert.equal((await waiter).stdout.trim(), "137");
  await d.docker(["rm", "work2"]);
  await d.docker(["rmi", "committed:1"]);
});

test("cp in and out, also of a stopped container, never onto the host", async () => {
  const id = (await d.docker(["create", "--name", "cpbox", "busybox", "cat", "/in/hello.txt"])).stdout.trim();
  const src = join(d.root, "cp-src");
  await mkdir(src, { recursive: true });
  await writeFile(join(src, "hello.txt"), "hi from the host\n");
  assert.equal((await d.docker(["cp", join(src, "hello.txt"), "cpbox:/tmp/"])).code, 0);
  await d.docker(["cp", src, "cpbox:/in"]);
  const r = await d.docker(["start", "-a", "cpbox"]);
  assert.equal(r.stdout, "hi from the host\n");
  const dest = join(d.root, "cp-out");
  await mkdir(dest);
  assert.equal((await d.docker(["cp", "cpbox:/tmp/hello.txt", dest])).code, 0);
  assert.equal(await readFile(join(dest, "hello.txt"), "utf8"), "hi from the host\n");
  // a symlink inside the container that points at / must resolve inside the container
  const link = await d.docker(["run", "--name", "linker", "busybox", "sh", "-c", "ln -s / /hostroot; echo inside > /marker"]);
  assert.equal(link.code, 0);
  const out2 = join(d.root, "cp-out2");
  await mkdir(out2);
  assert.equal((await d.docker(["cp", "linker:/hostroot/marker", out2])).code, 0);
  assert.equal(await readFile(join(out2, "marker"), "utf8"), "inside\n");
  const missing = await d.docker(["cp", "cpbox:/nope", dest]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /Could not find the file \/nope in container cpbox|No such container:path/);
  await d.docker(["rm", id, "linker"]);
});

test("bad input: unknown containers, duplicate names, malformed JSON", async () => {
  const unknown = await d.docker(["inspect", "nosuch"]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /No such object: nosuch|No such container: nosuch/);
  assert.equal((await d.api("POST", "/containers/nosuch/start")).status, 404);
  assert.match((await d.api("POST", "/containers/nosuch/start")).body, /No such container: nosuch/);
  await d.docker(["create", "--name", "dup", "busybox", "sleep", "60"]);
  const dup = await d.docker(["create", "--name", "dup", "busybox"]);
  assert.notEqual(dup.code, 0);
  assert.equal((await d.docker(["run", "--name", "dup", "busybox", "true"])).code, 125, "run exits 125 when the daemon refuses");
  assert.match(dup.stderr, /Conflict\. The container name "\/dup" is already in use by container/);
  const bad = await d.api("POST", "/containers/create", "{not json");
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body).message, /./);
  const noimg = await d.api("POST", "/containers/create", { Image: "nosuch:image" });
  assert.equal(noimg.status, 404);
  assert.match(noimg.body, /No such image: nosuch:image/);
  assert.equal((await d.api("POST", "/containers/dup/stop")).status, 304);
  const started = await d.api("POST", "/containers/dup/start");
  assert.equal(started.status, 204);
  assert.equal((await d.api("POST", "/containers/dup/start")).status, 304);
  assert.equal((await d.docker(["rm", "-f", "dup"])).code, 0);
  const ps = (await d.docker(["ps", "-a", "--format", "{{.Names}}"])).stdout;
  assert.doesNotMatch(ps, /dup/);
});

test("container prune removes stopped containers", async () => {
  await d.docker(["run", "--name", "stopped1", "busybox", "true"]);
  const r = await d.docker(["container", "prune", "-f"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Deleted Containers:/);
  assert.equal((await d.docker(["ps", "-aq"])).stdout.trim(), "");
});
