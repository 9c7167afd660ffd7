import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { get } from "node:http";
import { createServer } from "node:net";
import { startDaemon, makeBusyboxImage, run, type TestDaemon } from "../helpers/daemon.js";

let d: TestDaemon;
let hostDir = "";
let bridge = "";
let chainPrefix = "";
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
  hostDir = await mkdtemp(join(tmpdir(), "berth-netvol-"));
  const cfg = JSON.parse(await readFile(join(d.root, "daemon.json"), "utf8")) as Record<string, string>;
  bridge = cfg["bridge"]!;
  chainPrefix = cfg["iptables-chain-prefix"]!;
});
after(async () => {
  if (d) {
    await d.docker(["rm", "-f", "web1", "web2", "outsider", "pub", "vol-user"]).catch(() => {});
    for (const n of ["nv1", "nv2"]) await d.docker(["network", "rm", n]).catch(() => {});
    for (const v of ["v1", "v2"]) await d.docker(["volume", "rm", "-f", v]).catch(() => {});
    await d.stop();
  }
  if (hostDir) await rm(hostDir, { recursive: true, force: true });
  // Nothing of this daemon's networking is left on the host.
  if (bridge) assert.equal((await run("ip", ["-o", "link", "show"])).stdout.includes(bridge), false, "bridge left behind");
  if (chainPrefix) {
    for (const table of ["filter", "nat"]) {
      assert.equal((await run("iptables", ["-w", "-t", table, "-S"])).stdout.includes(chainPrefix), false, `${table} chains left behind`);
    }
  }
});

async function ok(args: string[]): Promise<string> {
  const r = await d.docker(args);
  assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}\n${d.logs().slice(-2000)}`);
  return r.stdout.trim();
}

const serve = (text: string) => `mkdir -p /www && echo ${text} > /www/file && exec httpd -f -p 80 -h /www`;
const fetchIn = (net: string, url: string) => d.docker(["run", "--rm", "--network", net, "busybox", "wget", "-q", "-O", "-", url]);

function hostGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => { body += c; });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

async function retry<T>(fn: () => Promise<T>, okFn: (v: T) => boolean, tries = 20): Promise<T> {
  let v = await fn();
  for (let i = 1; i < tries && !okFn(v); i++) { await new Promise((r) => setTimeout(r, 100)); v = await fn(); }
  return v;
}

/** A 10.215.x.0/24 no route on this host uses now (another daemon's network, maybe another test run's, on the same subnet
 * would misroute replies). */
async function freeSubnet(): Promise<string> {
  const routes = (await run("ip", ["-4", "route"])).stdout;
  const thirds = Array.from({ length: 200 }, (_, i) => i + 20).sort(() => Math.random() - 0.5);
  const third = thirds.find((t) => !routes.includes(`10.215.${t}.`)) ?? thirds[0]!;
  return `10.215.${third}.0/24`;
}

/** A loopback port nothing listens on now (the kernel's pick, not a random guess that may be taken). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

test("containers on a user network reach each other by name and alias; other networks cannot", async () => {
  const subnet = await freeSubnet();
  const prefix = subnet.replace(/0\/24$/, "").replaceAll(".", "\\.");
  await ok(["network", "create", "--subnet", subnet, "nv1"]);
  await ok(["network", "create", "nv2"]);
  await ok(["run", "-d", "--name", "web1", "--network", "nv1", "--network-alias", "alias1", "busybox", "sh", "-c", serve("from-web1")]);
  await ok(["run", "-d", "--name", "web2", "--network", "nv1", "busybox", "sh", "-c", serve("from-web2")]);
  const ip = await ok(["inspect", "-f", "{{.NetworkSettings.Networks.nv1.IPAddress}}", "web1"]);
  assert.match(ip, new RegExp(`^${prefix}\\d+$`));

  const a = await retry(() => fetchIn("nv1", "http://web1/file"), (r) => r.code === 0);
  assert.equal(a.stdout.trim(), "from-web1", a.stderr);
  const b = await retry(() => fetchIn("nv1", "http://alias1/file"), (r) => r.code === 0);
  assert.equal(b.stdout.trim(), "from-web1", b.stderr);
  const c = await retry(() => fetchIn("nv1", "http://web2/file"), (r) => r.code === 0);
  assert.equal(c.stdout.trim(), "from-web2", c.stderr);

  // nv2 neither resolves the names nor reaches the address.
  assert.notEqual((await fetchIn("nv2", "http://web1/file")).code, 0);
  // "; exit": wget must not be PID 1, which ignores the timeout's SIGTERM.
  const byIp = await d.docker(["run", "--rm", "--network", "nv2", "busybox", "sh", "-c", `timeout 3 wget -q -O - http://${ip}/file; exit $?`]);
  assert.notEqual(byIp.code, 0, byIp.stdout);

  const rmBusy = await d.docker(["network", "rm", "nv1"]);
  assert.notEqual(rmBusy.code, 0);
  assert.match(rmBusy.stderr, /active endpoints|in use|has active/i);

  const net = JSON.parse(await ok(["network", "inspect", "nv1"]))[0];
  assert.equal(Object.keys(net.Containers).length, 2);
  await ok(["rm", "-f", "web1", "web2"]);
  await ok(["network", "rm", "nv1", "nv2"]);
});

test("a published port answers on 127.0.0.1 from the host; docker port and ps show it", async () => {
  const port = await freePort();
  await ok(["run", "-d", "--name", "pub", "-p", `127.0.0.1:${port}:80`, "busybox", "sh", "-c", serve("published")]);
  assert.equal(await ok(["port", "pub"]), `80/tcp -> 127.0.0.1:${port}`);
  assert.match(await ok(["ps", "--filter", "name=pub", "--format", "{{.Ports}}"]), new RegExp(`127\\.0\\.0\\.1:${port}->80/tcp`));
  const insp = JSON.parse(await ok(["inspect", "pub"]))[0];
  assert.match(insp.NetworkSettings.IPAddress, /^10\.213\.\d+\.\d+$/);
  assert.ok(insp.NetworkSettings.Networks.bridge.IPAddress);
  const r = await retry(() => hostGet(`http://127.0.0.1:${port}/file`).catch(() => ({ status: 0, body: "" })), (x) => x.status === 200);
  assert.equal(r.status, 200);
  assert.equal(r.body.trim(), "published");
  // The default bridge never hands the host's (off-machine) resolver to containers.
  assert.doesNotMatch(await ok(["run", "--rm", "busybox", "cat", "/etc/resolv.conf"]), /nameserver (?!127\.)/);
  await ok(["rm", "-f", "pub"]);
  assert.notEqual((await hostGet(`http://127.0.0.1:${port}/file`).catch(() => ({ status: 0 }))).status, 200);
});

test("named, anonymous and bind volumes", async () => {
  await ok(["volume", "create", "v1"]);
  await ok(["run", "--rm", "-v", "v1:/data", "busybox", "sh", "-c", "echo persisted > /data/x"]);
  assert.equal(await ok(["run", "--rm", "-v", "v1:/data:ro", "busybox", "cat", "/data/x"]), "persisted");
  assert.equal(JSON.parse(await ok(["volume", "inspect", "v1"]))[0].Name, "v1");
  assert.match(await ok(["volume", "ls", "-q"]), /^v1$/m);

  await writeFile(join(hostDir, "in"), "from-host\n");
  assert.equal(await ok(["run", "--rm", "-v", `${hostDir}:/mnt`, "busybox", "sh", "-c", "cat /mnt/in; echo back > /mnt/out"]), "from-host");
  assert.equal(await readFile(join(hostDir, "out"), "utf8"), "back\n");

  // In use: refused; the container's Mounts show it.
  await ok(["run", "-d", "--name", "vol-user", "-v", "v1:/data", "-v", "/anon", "busybox", "sleep", "600"]);
  const mounts = JSON.parse(await ok(["inspect", "vol-user"]))[0].Mounts as { Type: string; Name?: string; Destination: string }[];
  assert.ok(mounts.some((m) => m.Type === "volume" && m.Name === "v1" && m.Destination === "/data"));
  const anon = mounts.find((m) => m.Destination === "/anon")?.Name;
  assert.ok(anon);
  const busy = await d.docker(["volume", "rm", "v1"]);
  assert.notEqual(busy.code, 0);
  assert.match(busy.stderr, /in use/);
  await ok(["rm", "-f", "-v", "vol-user"]);
  assert.doesNotMatch(await ok(["volume", "ls", "-q"]), new RegExp(anon!));

  // Survives a daemon SIGKILL and restart.
  await d.kill();
  await d.restart();
  assert.equal(await ok(["run", "--rm", "-v", "v1:/data", "busybox", "cat", "/data/x"]), "persisted");
  await ok(["volume", "rm", "v1"]);
});

test("a running container keeps its network across a daemon SIGKILL", async () => {
  await ok(["network", "create", "nv1"]);
  await ok(["run", "-d", "--name", "web1", "--network", "nv1", "busybox", "sh", "-c", serve("still-here")]);
  await d.kill();
  await d.restart();
  const r = await retry(() => fetchIn("nv1", "http://web1/file"), (x) => x.code === 0);
  assert.equal(r.stdout.trim(), "still-here", r.stderr);
  await ok(["rm", "-f", "web1"]);
  await ok(["network", "rm", "nv1"]);
});
