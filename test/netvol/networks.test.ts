import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile, mkdir, access, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { createServer, type Server } from "node:net";
import { LocalNetworksService, testNetworkNames } from "../../src/services/networks-service.js";
import { execFileCapture } from "../../src/sys/exec.js";
import { createNetns } from "../../src/network/netns.js";
import { newId, shortId } from "../../src/util/index.js";

const names = testNetworkNames();
// Subnets 10.213.{third..third+4, third+60}: chosen clear of routes other daemons on this host have now (a shared
// subnet on two bridges misroutes replies; test daemons pick 10.213.x at random too).
const routes = execFileSync("ip", ["-4", "route"]).toString();
const clear = (t: number) => [t, t + 1, t + 2, t + 3, t + 4, t + 60].every((x) => !routes.includes(`10.213.${x}.`));
const third = Array.from({ length: 50 }, (_, i) => 100 + i).sort(() => Math.random() - 0.5).find(clear) ?? 100;
let root = "";
let svc: LocalNetworksService;
const procs: ChildProcess[] = [];
const timings: number[] = [];

function options(dataRoot: string) {
  return {
    dataRoot: join(dataRoot, "data"), execRoot: join(dataRoot, "exec"), chainPrefix: names.chainPrefix, defaultBridge: names.defaultBridge,
    bip: `10.213.${third}.1/24`, defaultAddressPools: [{ base: `10.213.${third + 60}.0/24`, size: 26 }], hostResolvConf: null,
  };
}

/** Run argv in the container's netns with its own /etc/hosts and /etc/resolv.conf (never the host's resolver). */
function inNs(ns: string, files: { hostsFile: string; resolvConf: string }, argv: string[], timeoutMs = 8000) {
  return execFileCapture("nsenter", [`--net=${ns}`, "unshare", "--mount", "--propagation", "private", "sh", "-c",
    'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/hosts && shift 2 && exec "$@"', "sh", files.resolvConf, files.hostsFile, ...argv], { timeoutMs });
}

async function httpd(ns: string, body: string): Promise<void> {
  const dir = join(root, `www-${procs.length}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "index.html"), body);
  const p = spawn("nsenter", [`--net=${ns}`, "/usr/bin/busybox", "httpd", "-f", "-p", "80", "-h", dir], { stdio: "ignore" });
  procs.push(p);
  // Ready once port 80 listens in its namespace (nsenter execs httpd, so the pid's net/tcp is the namespace's): a fixed
  // wait may end before that on a loaded machine, and the first request would be refused.
  const listening = (t: string) => t.split("\n").some((l) => { const f = l.trim().split(/\s+/); return f[1]?.endsWith(":0050") && f[3] === "0A"; });
  for (const deadline = Date.now() + 15_000; ;) {
    const tcp = await readFile(`/proc/${p.pid}/net/tcp`, "utf8").catch(() => "");
    const tcp6 = await readFile(`/proc/${p.pid}/net/tcp6`, "utf8").catch(() => "");
    if (listening(tcp) || listening(tcp6)) return;
    if (p.exitCode !== null || Date.now() > deadline) throw new Error(`httpd in ${ns} never listened on port 80 (exit ${p.exitCode})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function hostGet(port: number, host = "127.0.0.1"): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: "/", timeout: 4000 }, (res) => {
      let s = "";
      res.setEncoding("utf8").on("data", (d: string) => { s += d; }).on("end", () => resolve(s));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

async function timedAttach(...args: Parameters<LocalNetworksService["attach"]>) {
  const t0 = performance.now();
  const r = await svc.attach(...args);
  timings.push(performance.now() - t0);
  return r;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), "berth-netvol-"));
  svc = new LocalNetworksService(options(root));
  await svc.restore();
});

after(async () => {
  for (const p of procs) if (p.pid && p.exitCode === null) process.kill(p.pid, "SIGKILL");
  await svc?.destroyAll().catch((e) => console.error("destroyAll", e));
  await rm(root, { recursive: true, force: true });
  const links = await execFileCapture("ip", ["-o", "link"]);
  const rules = await execFileCapture("sh", ["-c", "iptables -S; iptables -t nat -S"]);
  if (timings.length) {
    const sorted = [...timings].sort((a, b) => a - b);
    console.log(`# network attach (netns + CNI ADD + files): median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms over ${sorted.length}`);
  }
  assert.ok(!links.stdout.includes(names.defaultBridge), "test bridge left behind");
  assert.ok(!rules.stdout.includes(names.chainPrefix), "test chains left behind");
});

test("networks: two containers reach each other by name, alias and short id; isolation; published port on 127.0.0.1", async () => {
  const a = await svc.create({ Name: `a-${names.token}`, IPAM: { Config: [{ Subnet: `10.213.${third + 1}.0/24` }] } });
  const b = await svc.create({ Name: `b-${names.token}`, IPAM: { Config: [{ Subnet: `10.213.${third + 2}.0/24` }] } });
  await assert.rejects(svc.create({ Name: `c-${names.token}`, IPAM: { Config: [{ Subnet: `10.213.${third + 1}.128/25` }] } }), /overlaps/);
  await assert.rejects(svc.create({ Name: `a-${names.token}` }), /already exists/);
  await assert.rejects(svc.create({ Name: "x", IPAM: { Config: [{ Subnet: "10.0.0.1/8" }] } }), /invalid subnet/);

  const web = newId();
  const client = newId();
  const other = newId();
  const w = await timedAttach(web, { name: "web1", networkMode: `a-${names.token}`, aliases: ["www"] });
  const c = await timedAttach(client, { name: "client", networkMode: a.Id, extraHosts: ["gw:host-gateway"] });
  const o = await timedAttach(other, { name: "other", networkMode: `b-${names.token}` });
  const wip = w.endpoints[`a-${names.token}`]!.IPAddress!;
  assert.match(wip, new RegExp(`^10\\.213\\.${third + 1}\\.`));
  assert.match(await readFile(c.hostsFile, "utf8"), new RegExp(`10\\.213\\.${third + 1}\\.1\\tgw`));
  assert.match(await readFile(c.resolvConf, "utf8"), new RegExp(`nameserver 10\\.213\\.${third + 1}\\.1`));

  await httpd(w.netnsPath, "hello from web1\n");
  for (const host of ["web1", "www", shortId(web), `web1.a-${names.token}`]) {
    const r = await inNs(c.netnsPath, c, ["/usr/bin/busybox", "wget", "-q", "-O", "-", `http://${host}/`]);
    assert.equal(r.stdout, "hello from web1\n", `${host}: ${r.stderr}`);
  }
  const ns = await inNs(c.netnsPath, c, ["/usr/bin/busybox", "nslookup", "web1"]);
  assert.match(ns.stdout, new RegExp(wip.replace(/\./g, "\\.")));

  // Another network: no name, no route.
  const byName = await inNs(o.netnsPath, o, ["/usr/bin/busybox", "wget", "-q", "-O", "-", "http://web1/"], 3000);
  assert.notEqual(byName.code, 0);
  const byIp = await inNs(o.netnsPath, o, ["/usr/bin/busybox", "wget", "-q", "-O", "-", `http://${wip}/`], 3000);
  assert.notEqual(byIp.code, 0, "crossed networks");

  // Published port on the default bridge, reached from the host on 127.0.0.1 and on the gateway address.
  const pub = newId();
  const p = await timedAttach(pub, { name: "pub", portBindings: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] }, exposedPorts: { "80/tcp": {}, "443/tcp": {} } });
  assert.equal(p.ports["443/tcp"], null);
  const hostPort = Number(p.ports["80/tcp"]![0]!.HostPort);
  assert.ok(hostPort > 0);
  await httpd(p.netnsPath, "published\n");
  assert.equal(await hostGet(hostPort), "published\n");
  // ... and from a container on another network through the host address.
  const gw = `10.213.${third}.1`;
  const pub2 = newId();
  const p2 = await timedAttach(pub2, { name: "pub2", portBindings: { "80/tcp": [{ HostPort: "" }] } });
  await httpd(p2.netnsPath, "published2\n");
  const port2 = Number(p2.ports["80/tcp"]![0]!.HostPort);
  assert.equal(await hostGet(port2, gw), "published2\n");
  const fromOther = await inNs(o.netnsPath, o, ["/usr/bin/busybox", "wget", "-q", "-O", "-", `http://${gw}:${port2}/`]);
  assert.equal(fromOther.stdout, "published2\n", fromOther.stderr);

  // A taken host port fails the attach and leaves nothing behind.
  const dup = newId();
  await assert.rejects(svc.attach(dup, { name: "dup", portBindings: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: String(hostPort) }] } }), /port is already allocated/);
  await assert.rejects(access(join(root, "exec", "netns", dup)));
  const busy: Server = createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
  const busyPort = (busy.address() as { port: number }).port;
  await assert.rejects(svc.attach(dup, { name: "dup", portBindings: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: String(busyPort) }] } }), /address already in use/);
  busy.close();
  assert.equal(await svc.settings(dup), null);

  // In use: refused; inspect lists the containers with their addresses.
  await assert.rejects(svc.remove(a.Id), /has active endpoints/);
  const insp = await svc.inspect(`a-${names.token}`);
  assert.equal(insp.Containers[web]!.IPv4Address, `${wip}/24`);
  assert.equal(insp.Containers[client]!.Name, "client");

  // connect / disconnect on a running container.
  await svc.connect(b.Id, client, { aliases: ["cl"] });
  const r2 = await inNs(o.netnsPath, o, ["/usr/bin/busybox", "nslookup", "cl"]);
  assert.equal(r2.code, 0, r2.stdout + r2.stderr);
  await svc.disconnect(b.Id, client);
  assert.equal(Object.keys((await svc.settings(client))!.endpoints).length, 1);

  for (const id of [web, client, other, pub, pub2]) await svc.detach(id);
  await svc.remove(a.Id);
  await svc.remove(b.Id);
  await assert.rejects(svc.remove("bridge"), /pre-defined/);
  await assert.rejects(svc.inspect(a.Id), /not found/);
});

test("networks: IPAM honours --ip, refuses a taken one, persists across a restart; restore reapplies rules once", async () => {
  const n = await svc.create({ Name: `ipam-${names.token}`, Internal: true, IPAM: { Config: [{ Subnet: `10.213.${third + 3}.0/24`, IPRange: `10.213.${third + 3}.128/25` }] } });
  const one = newId();
  const two = newId();
  const r1 = await svc.attach(one, { name: "one", networkMode: n.Id, ip: `10.213.${third + 3}.50` });
  assert.equal(r1.endpoints[`ipam-${names.token}`]!.IPAddress, `10.213.${third + 3}.50`);
  await assert.rejects(svc.attach(two, { name: "two", networkMode: n.Id, ip: `10.213.${third + 3}.50` }), /Address already in use/);
  const r2 = await svc.attach(two, { name: "two", networkMode: n.Id, portBindings: { "81/tcp": [{ HostPort: "" }] } });
  assert.match(r2.endpoints[`ipam-${names.token}`]!.IPAddress!, new RegExp(`^10\\.213\\.${third + 3}\\.(1[2-9]\\d|2\\d\\d)$`));
  const route = await execFileCapture("nsenter", [`--net=${r2.netnsPath}`, "ip", "route"]);
  assert.ok(!route.stdout.includes("default"), "internal network has a default route");

  const rulesBefore = (await execFileCapture("sh", ["-c", "iptables -S; iptables -t nat -S"])).stdout.split("\n").filter((l) => l.includes(names.chainPrefix)).sort();
  await svc.close();
  svc = new LocalNetworksService(options(root));
  await svc.restore([one, two]);
  await svc.restore([one, two]);
  const rulesAfter = (await execFileCapture("sh", ["-c", "iptables -S; iptables -t nat -S"])).stdout.split("\n").filter((l) => l.includes(names.chainPrefix)).sort();
  assert.deepEqual(rulesAfter, rulesBefore);
  const again = await svc.settings(one);
  assert.equal(again?.endpoints[`ipam-${names.token}`]!.IPAddress, `10.213.${third + 3}.50`);
  const three = newId();
  const r3 = await svc.attach(three, { name: "three", networkMode: n.Id });
  assert.notEqual(r3.endpoints[`ipam-${names.token}`]!.IPAddress, r2.endpoints[`ipam-${names.token}`]!.IPAddress);

  // A container the daemon no longer knows is dropped on restore.
  await svc.close();
  svc = new LocalNetworksService(options(root));
  await svc.restore([one, three]);
  assert.equal(await svc.settings(two), null);
  await assert.rejects(access(r2.netnsPath));
  for (const id of [one, three]) await svc.detach(id);
  assert.deepEqual((await svc.prune()).NetworksDeleted, [`ipam-${names.token}`]);
});

test("networks: detach leaves the exit path at once; a teardown cut by a crash and an orphan namespace are finished by restore", async () => {
  const n = await svc.create({ Name: `bg-${names.token}`, IPAM: { Config: [{ Subnet: `10.213.${third + 4}.0/29` }] } });
  const a = newId();
  const ra = await svc.attach(a, { name: "a", networkMode: n.Id });
  await svc.detach(a);
  assert.equal(await svc.settings(a), null, "gone from what the service shows at once");
  assert.deepEqual((await svc.inspect(n.Id)).Containers, {});
  await svc.settled();
  await assert.rejects(access(ra.netnsPath));

  // The daemon dies with b attached and a namespace made whose endpoint record never landed.
  const b = newId();
  const rb = await svc.attach(b, { name: "b", networkMode: n.Id });
  const orphan = join(root, "exec", "netns", newId());
  await createNetns(orphan);
  await svc.close();
  svc = new LocalNetworksService(options(root));
  await svc.restore([]);
  await assert.rejects(access(rb.netnsPath));
  await assert.rejects(access(orphan));
  // All five addresses of the /29 are free again, and no sixth exists.
  const ids = Array.from({ length: 5 }, () => newId());
  const got = await Promise.all(ids.map((id, i) => svc.attach(id, { name: `p${i}`, networkMode: n.Id })));
  assert.equal(new Set(got.map((r) => r.endpoints[`bg-${names.token}`]!.IPAddress)).size, 5);
  await assert.rejects(svc.attach(newId(), { name: "p6", networkMode: n.Id }), /no available IPv4 addresses/);
  for (const id of ids) await svc.detach(id);
  await svc.remove(n.Id);
});

test("networks: host, none and container: modes", async () => {
  const base = newId();
  const none = await svc.attach(base, { name: "base", networkMode: "none", hostname: "box" });
  const link = await execFileCapture("nsenter", [`--net=${none.netnsPath}`, "ip", "-o", "link"]);
  assert.deepEqual(link.stdout.trim().split("\n").length, 1);
  assert.equal(await readFile(none.hostnameFile, "utf8"), "box\n");
  const joined = newId();
  const j = await svc.attach(joined, { name: "joined", networkMode: `container:${base}` });
  assert.equal(j.netnsPath, none.netnsPath);
  const host = newId();
  const h = await svc.attach(host, { name: "host", networkMode: "host" });
  assert.equal(h.netnsPath, "");
  assert.ok((await svc.inspect("host")).Containers[host]);
  for (const id of [joined, host, base]) await svc.forget(id);
  // the namespace goes in the background, off the container's exit path
  await svc.settled();
  await assert.rejects(access(none.netnsPath));
  await assert.rejects(svc.attach(newId(), { name: "x", networkMode: "nope" }), /network nope not found/);
});
