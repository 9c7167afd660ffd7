import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, makeBusyboxImage, run, type TestDaemon, type RunResult } from "../helpers/daemon.js";
import { eventually } from "../helpers/eventually.js";

// berth network|volume against the real docker CLI on the same daemon, and the bad input through docker.
let d: TestDaemon;
let subnetBase = "";
let bridge = "";
let chainPrefix = "";
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
  const cfg = JSON.parse(await readFile(join(d.root, "daemon.json"), "utf8")) as Record<string, string>;
  bridge = cfg["bridge"]!;
  chainPrefix = cfg["iptables-chain-prefix"]!;
  // A /24 of our own per test daemon, inside 10.215/16, clear of the routes on this host now (and its twin in 10.216/16).
  const routes = (await run("ip", ["-4", "route"])).stdout;
  const thirds = Array.from({ length: 256 }, (_, i) => i).sort(() => Math.random() - 0.5);
  const third = thirds.find((t) => !routes.includes(`10.215.${t}.`) && !routes.includes(`10.216.${t}.`)) ?? thirds[0]!;
  subnetBase = `10.215.${third}`;
});
after(async () => {
  if (!d) return;
  await d.stop();
  assert.equal((await run("ip", ["-o", "link", "show"])).stdout.includes(bridge), false, "bridge left behind");
  for (const table of ["filter", "nat"]) {
    assert.equal((await run("iptables", ["-w", "-t", table, "-S"])).stdout.includes(chainPrefix), false, `${table} chains left behind`);
  }
});

async function ok(r: Promise<RunResult>): Promise<string> {
  const res = await r;
  assert.equal(res.code, 0, `${res.stderr}\n${d.logs().slice(-2000)}`);
  return res.stdout;
}

/** berth and docker give the same exit status, stdout and stderr (docker's "docker: " prefix and its trailing "exit status 1" line aside). */
async function same(args: string[], input?: string): Promise<RunResult> {
  const b = await d.berth(args, input === undefined ? {} : { input });
  const k = await d.docker(args, input === undefined ? {} : { input });
  const norm = (s: string) => s.replace(/^docker: /gm, "berth: ").replace(/\nexit status 1\n$/, "\n").replaceAll("docker", "berth");
  assert.deepEqual({ code: b.code, stdout: b.stdout, stderr: norm(b.stderr) }, { code: k.code, stdout: k.stdout, stderr: norm(k.stderr) }, `berth|docker ${args.join(" ")}`);
  return b;
}

test("berth network create|ls|inspect|connect|disconnect|rm|prune match docker's output", async () => {
  const id = (await ok(d.berth(["network", "create", "--subnet", `${subnetBase}.0/24`, "--gateway", `${subnetBase}.254`, "--ip-range", `${subnetBase}.128/25`,
    "--label", "team=blue", "-o", "com.docker.network.bridge.name", "--internal", "--attachable", "clinet"]))).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const shown = JSON.parse(await ok(d.docker(["network", "inspect", "-f", "{{json .}}", "clinet"]))) as Record<string, any>;
  assert.deepEqual(shown.IPAM.Config, [{ Subnet: `${subnetBase}.0/24`, Gateway: `${subnetBase}.254`, IPRange: `${subnetBase}.128/25` }]);
  assert.deepEqual(shown.Labels, { team: "blue" });
  assert.equal(shown.Internal, true);
  assert.equal(shown.Attachable, true);
  await ok(d.docker(["network", "create", "--label", "b=2", "plain"]));

  await same(["network", "ls"]);
  await same(["network", "ls", "--no-trunc"]);
  await same(["network", "list", "-q"]);
  await same(["network", "ls", "--format", "json"]);
  await same(["network", "ls", "--format", "table {{.Name}}\t{{.Internal}}\t{{.Labels}}\t{{.Label \"team\"}}\t{{.IPv4}}\t{{.IPv6}}"]);
  await same(["network", "ls", "-f", "label=team=blue", "-f", "type=custom"]);
  await same(["network", "ls", "-f", "driver=null", "--format", "{{.Name}}"]);
  await same(["network", "inspect", "clinet", "bridge"]);
  await same(["network", "inspect", "-f", "json", "plain"]);
  await same(["network", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Internal}}", "plain", "nope"]);
  await same(["network", "inspect", "nope"]);

  // connect / disconnect on a running container
  await ok(d.docker(["run", "-d", "--name", "cli-c", "--network", "plain", "busybox", "sleep", "300"]));
  await ok(d.berth(["network", "connect", "--alias", "db,cache", "--ip", `${subnetBase}.130`, "clinet", "cli-c"]));
  const ep = JSON.parse(await ok(d.docker(["inspect", "-f", "{{json .NetworkSettings.Networks.clinet}}", "cli-c"]))) as Record<string, any>;
  assert.equal(ep.IPAddress, `${subnetBase}.130`);
  assert.deepEqual(ep.Aliases, ["db", "cache"]);
  const seen = await ok(d.docker(["exec", "cli-c", "ip", "-o", "-4", "addr"]));
  assert.match(seen, new RegExp(`${subnetBase.replaceAll(".", "\\.")}\\.130/24`));
  await same(["network", "connect", "clinet", "cli-c"]);
  await same(["network", "connect", "nope", "cli-c"]);
  await same(["network", "connect", "clinet", "nope"]);
  await same(["network", "rm", "clinet"]);
  await ok(d.berth(["network", "disconnect", "clinet", "cli-c"]));
  assert.doesNotMatch(await ok(d.docker(["exec", "cli-c", "ip", "-o", "-4", "addr"])), new RegExp(subnetBase.replaceAll(".", "\\.")));
  await same(["network", "disconnect", "clinet", "cli-c"]);
  await same(["network", "disconnect", "-f", "clinet", "cli-c"]);
  await ok(d.docker(["rm", "-f", "cli-c"]));

  // rm: several at once, one unknown; -f ignores unknown ones; predefined ones stay
  await same(["network", "rm", "nope"]);
  await same(["network", "rm", "-f", "nope"]);
  await same(["network", "rm", "bridge"]);
  const rmOut = await d.berth(["network", "rm", "clinet", "nope2"]);
  assert.equal(rmOut.code, 1);
  assert.equal(rmOut.stdout, "clinet\n");
  assert.equal(rmOut.stderr, "Error response from daemon: network nope2 not found\n");

  // prune: asks first, "n" keeps everything
  const asked = await d.berth(["network", "prune"], { input: "n\n" });
  assert.equal(asked.code, 0);
  assert.equal(asked.stdout, "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ");
  assert.match(await ok(d.docker(["network", "ls", "--format", "{{.Name}}"])), /plain/);
  await ok(d.docker(["network", "create", "--label", "keep=1", "kept"]));
  assert.equal(await ok(d.berth(["network", "prune", "-f", "--filter", "label!=keep"])), "Deleted Networks:\nplain\n");
  assert.equal(await ok(d.berth(["network", "prune", "-f", "--filter", "label!=keep"])), "");
  await ok(d.berth(["network", "rm", "kept"]));
});

test("berth volume create|ls|inspect|rm|prune and system df match docker's output", async () => {
  assert.equal(await ok(d.berth(["volume", "create", "--label", "tier=db", "cv1"])), "cv1\n");
  assert.equal(await ok(d.berth(["volume", "create", "cv1"])), "cv1\n", "creating an existing volume returns it");
  assert.equal(await ok(d.berth(["volume", "create", "--name", "cv2", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m"])), "cv2\n");
  const anon = (await ok(d.berth(["volume", "create"]))).trim();
  assert.match(anon, /^[0-9a-f]{64}$/);
  await ok(d.docker(["run", "-d", "--name", "vuser", "-v", "cv1:/data", "busybox", "sh", "-c", "head -c 10000 /dev/zero > /data/f; sleep 300"]));
  await ok(d.docker(["run", "--name", "vanon", "-v", "/scratch", "busybox", "true"]));
  // wait until the file is written (bounded, and failing if it never is)
  await eventually("the file written into cv1", () => stat(join(d.dataRoot, "volumes/cv1/_data/f")).then((s) => s.size === 10000, () => false));

  await same(["volume", "ls"]);
  await same(["volume", "list", "-q"]);
  await same(["volume", "ls", "--format", "json"]);
  await same(["volume", "ls", "--format", "table {{.Name}}\t{{.Labels}}\t{{.Label \"tier\"}}\t{{.Scope}}\t{{.Links}}\t{{.Size}}"]);
  await same(["volume", "ls", "-f", "dangling=true", "-f", "name=cv"]);
  await same(["volume", "ls", "-f", "label=tier=db", "-q"]);
  await same(["volume", "inspect", "cv1", "cv2"]);
  await same(["volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Labels}} {{.Options}}", "cv2", "nope"]);
  await same(["volume", "inspect", "-f", "json", "cv1"]);
  await same(["volume", "inspect", "nope"]);
  await same(["volume", "rm", "cv1"]);
  await same(["volume", "rm", "nope"]);
  await same(["volume", "create", "-d", "nosuchdriver", "x"]);

  // system df: volumes with their sizes and links
  await same(["system", "df"]);
  await same(["system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}"]);
  // -v: only the volumes part (the other parts say "N seconds ago", which may tick between the two runs)
  const volumesPart = (s: string) => s.slice(s.indexOf("Local Volumes space usage:"), s.indexOf("Build cache usage:"));
  const dfB = volumesPart(await ok(d.berth(["system", "df", "-v"])));
  assert.equal(dfB, volumesPart(await ok(d.docker(["system", "df", "-v"]))));
  assert.match(dfB, /^cv1\s+1\s+(\d+(\.\d+)?kB)\s*$/m);
  const api = JSON.parse((await d.api("GET", "/system/df?type=volume")).body) as { Volumes: { Name: string; UsageData: { Size: number; RefCount: number } }[] };
  const cv1 = api.Volumes.find((v) => v.Name === "cv1")!;
  assert.equal(cv1.UsageData.RefCount, 1);
  assert.ok(cv1.UsageData.Size >= 10000, String(cv1.UsageData.Size));
  assert.equal(api.Volumes.find((v) => v.Name === anon)!.UsageData.Size, 0);

  // prune: anonymous only unless -a; used volumes stay
  const asked = await d.berth(["volume", "prune"], { input: "\n" });
  assert.equal(asked.stdout, "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ");
  await ok(d.docker(["rm", "vanon"]));
  const pruned = await ok(d.berth(["volume", "prune", "-f"]));
  assert.match(pruned, /^Deleted Volumes:\n[0-9a-f]{64}\n\nTotal reclaimed space: 0B\n$/);
  assert.doesNotMatch(pruned, new RegExp(anon), "a named-by-id volume made by volume create is not anonymous");
  const all = await ok(d.berth(["volume", "prune", "-a", "-f"]));
  assert.equal(all, `Deleted Volumes:\n${[anon, "cv2"].sort().join("\n")}\n\nTotal reclaimed space: 0B\n`);
  assert.equal(await ok(d.berth(["volume", "ls", "-q"])), "cv1\n");
  const inUse = await d.berth(["volume", "rm", "cv1", "nope"]);
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, /^Error response from daemon: remove cv1: volume is in use - \[[0-9a-f]{64}\]\nError response from daemon: get nope: no such volume\n$/);
  await ok(d.docker(["rm", "-f", "vuser"]));
  assert.equal(await ok(d.berth(["volume", "rm", "cv1", "-f", "nope"])), "cv1\nnope\n");
  assert.equal(await ok(d.berth(["volume", "ls", "-q"])), "");
});

test("bad input through the docker CLI: clear errors, nothing half-made", async () => {
  // only this daemon's interfaces count: other daemons may run beside it
  const links = async () => (await run("ip", ["-o", "link", "show", "master", bridge])).stdout.split("\n").filter(Boolean).length;
  const rules = async () => (await run("iptables", ["-w", "-t", "nat", "-S"])).stdout.split("\n").filter((l) => l.includes(chainPrefix)).length;
  const netns = async () => (await readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((l) => l.includes(d.root) && l.includes("netns")).length;
  const subnet2 = subnetBase.replace(/^10\.215\./, "10.216.");
  const before = { links: await links(), rules: await rules(), netns: await netns(), nets: await ok(d.docker(["network", "ls", "-q"])) };

  const fail = async (args: string[], code: number, message: RegExp) => {
    const r = await d.docker(args);
    assert.equal(r.code, code, `docker ${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /Unable to find image/, "an unknown network or volume must not look like a missing image");
  };
  await fail(["network", "create", "--subnet", "10.300.0.0/24", "bad1"], 1, /^Error response from daemon: invalid CIDR address: 10\.300\.0\.0\/24\n$/);
  await fail(["network", "create", "--subnet", `${subnet2}.0/33`, "bad2"], 1, /invalid CIDR address/);
  const goodId = (await ok(d.docker(["network", "create", "--subnet", `${subnet2}.0/24`, "good"]))).trim();
  await fail(["network", "create", "--subnet", `${subnet2}.128/25`, "bad3"], 1, /^Error response from daemon: invalid pool request: Pool overlaps with other one on this address space\n$/);
  await fail(["network", "create", "--subnet", "10.0.0.0/8", "bad4"], 1, /Pool overlaps/);
  await fail(["network", "create", "--subnet", `${subnet2}.0/24`, "--gateway", "10.1.1.1", "bad5"], 1, /^no matching subnet for gateway 10\.1\.1\.1\n$/);
  await fail(["network", "create", "good"], 1, /^Error response from daemon: network with name good already exists\n$/);
  await fail(["network", "create", "-d", "overlay", "bad6"], 1, /plugin "overlay" not found/);
  // dockerd checks the network at start, not at create: an unknown one is a clear error, never an image pull
  await fail(["run", "--rm", "--network", "nope", "busybox", "true"], 125, /^docker: Error response from daemon: network nope not found\n/);
  await fail(["run", "--rm", "--network", "good", "--ip", "10.9.9.9", "busybox", "true"], 125, /Invalid address 10\.9\.9\.9: It does not belong to any of this network's subnets/);
  await fail(["run", "--rm", "--ip", `${subnet2}.9`, "busybox", "true"], 125, /user specified IP address is supported on user defined networks only/);
  await fail(["network", "connect", "nope", "x"], 1, /network nope not found|No such container: x/);
  await fail(["volume", "inspect", "nope"], 1, /^Error response from daemon: get nope: no such volume\n$/);

  // --mount bind: a missing source is an error; -v creates it (as Docker does)
  const missing = join(d.root, "no-such-dir");
  await fail(["run", "--rm", "--mount", `type=bind,src=${missing},dst=/x`, "busybox", "true"], 125, new RegExp(`invalid mount config for type "bind": bind source path does not exist: ${missing}`));
  await assert.rejects(stat(missing));
  await ok(d.docker(["run", "--rm", "-v", `${missing}:/x`, "busybox", "touch", "/x/made"]));
  assert.ok((await stat(join(missing, "made"))).isFile());
  await rm(missing, { recursive: true });
  // --mount of an unknown named volume creates it, as dockerd does
  await ok(d.docker(["run", "--rm", "--mount", "type=volume,src=madeonrun,dst=/v", "busybox", "true"]));
  assert.match(await ok(d.docker(["volume", "ls", "-q"])), /^madeonrun$/m);
  await ok(d.docker(["volume", "rm", "madeonrun"]));

  // in use: network and volume rm refused, then allowed
  await ok(d.docker(["run", "-d", "--name", "holder", "--network", "good", "-v", "held:/h", "busybox", "sleep", "300"]));
  await fail(["network", "rm", "good"], 1, /^Error response from daemon: error while removing network: network good id [0-9a-f]{64} has active endpoints\n/);
  await fail(["volume", "rm", "held"], 1, /^Error response from daemon: remove held: volume is in use - \[[0-9a-f]{64}\]\n$/);
  await ok(d.docker(["rm", "-f", "holder"]));
  await ok(d.docker(["network", "rm", "good"]));
  await ok(d.docker(["volume", "rm", "held"]));

  assert.equal(await ok(d.docker(["ps", "-aq"])), "", "failed runs leave no container");
  assert.equal(await ok(d.docker(["network", "ls", "-q"])), before.nets);
  // a stopped container's namespace goes in the background: wait (bounded) for it
  await eventually("the stopped container's interfaces and namespace to go", async () => await links() === before.links && await netns() === before.netns).catch(() => {});
  assert.equal(await links(), before.links, "no interface left behind");
  assert.doesNotMatch((await run("ip", ["-o", "link", "show"])).stdout, new RegExp(`br-${goodId.slice(0, 12)}`), "bridge of a removed network left behind");
  assert.equal(await rules(), before.rules, "no rule left behind");
  assert.equal(await netns(), before.netns, "no namespace left behind");
});
