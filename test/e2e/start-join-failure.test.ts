import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, makeBusyboxImage, run, type TestDaemon } from "../helpers/daemon.js";

// The network join (CNI ADD) runs alongside conmon + `runc create`; when it fails, the created container, its monitor,
// its rootfs mount, its namespace and its addresses must all be gone, and the container must start later.

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
});
after(async () => {
  if (d) {
    await d.docker(["rm", "-f", "jf"]).catch(() => {});
    await d.docker(["network", "rm", "jfnet"]).catch(() => {});
    await d.stop();
  }
});

async function ok(args: string[]): Promise<string> {
  const r = await d.docker(args);
  assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}\n${d.logs().slice(-2000)}`);
  return r.stdout.trim();
}

async function until(what: string, fn: () => Promise<boolean>): Promise<void> {
  // The namespace goes in the background: a deadline, not a count of tries, so a loaded machine gets the same time.
  for (const deadline = Date.now() + 30_000; Date.now() < deadline;) { if (await fn()) return; await new Promise((r) => setTimeout(r, 100)); }
  assert.fail(`${what} still there`);
}

test("a failed network join during start leaves no container process, mount, namespace, veth or address behind", async () => {
  const subnet = `10.${240 + Math.floor(Math.random() * 10)}.${Math.floor(Math.random() * 256)}.0/24`;
  // No veth takes an MTU above 65535: the bridge plugin's ADD fails, after prepare has made the namespace and files.
  await ok(["network", "create", "--subnet", subnet, "-o", "com.docker.network.driver.mtu=70000", "jfnet"]);
  const bridgeName = `br-${(await ok(["network", "inspect", "-f", "{{.Id}}", "jfnet"])).slice(0, 12)}`;
  const id = await ok(["create", "--name", "jf", "--network", "jfnet", "busybox", "sleep", "300"]);
  const r = await d.docker(["start", "jf"]);
  assert.notEqual(r.code, 0, "start on a network whose join fails must fail");
  assert.match(r.stderr, /failed to make veth pair/, "the join's own error is reported");

  assert.equal(await ok(["inspect", "-f", "{{.State.Status}} {{.State.Pid}}", "jf"]), "created 0");
  assert.equal(await ok(["inspect", "-f", "{{.NetworkSettings.Networks.jfnet.IPAddress}}", "jf"]), "");
  const ps = await run("ps", ["-eo", "args="]);
  assert.equal(ps.stdout.split("\n").some((l) => l.includes(id) && (l.includes("conmon") || l.includes("runc"))), false, "monitor or runtime left running");
  const mountinfo = await readFile("/proc/self/mountinfo", "utf8");
  assert.equal(mountinfo.includes(id), false, "rootfs or namespace still mounted");
  await until("namespace file", async () => !(await readdir(join(d.execRoot, "netns")).catch(() => [] as string[])).some((f) => !f.startsWith("spare-")));
  const veths = (await run("ip", ["-o", "link", "show", "master", bridgeName])).stdout.trim();
  assert.equal(veths, "", "a veth is still on the network's bridge");
  assert.deepEqual(JSON.parse(await ok(["network", "inspect", "-f", "{{json .Containers}}", "jfnet"])), {});

  // Nothing half-made holds the network or the container: both go, and a container on a working network runs.
  await ok(["rm", "jf"]);
  await ok(["network", "rm", "jfnet"]);
  assert.equal(await ok(["run", "--rm", "busybox", "sh", "-c", "ip -o -4 addr show eth0 | wc -l"]), "1");
});
