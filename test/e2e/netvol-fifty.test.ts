import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, makeBusyboxImage, run, unroutedSubnet, type TestDaemon } from "../helpers/daemon.js";

// 50 containers started at once on one user network; every one answers by name (Berth's resolver, never an outside name).
let d: TestDaemon;
let bridge = "";
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
  bridge = (JSON.parse(await readFile(join(d.root, "daemon.json"), "utf8")) as Record<string, string>)["bridge"]!;
});
after(async () => { await d?.stop(); });

test("50 containers started concurrently on one user network are each reachable by name", { timeout: 240_000 }, async () => {
  const net = "fifty";
  const created = await d.docker(["network", "create", "--subnet", `${await unroutedSubnet("10.212")}.0/24`, net]);
  assert.equal(created.code, 0, created.stderr);
  const netId = created.stdout.trim();
  const names = Array.from({ length: 50 }, (_, i) => `f${i}`);
  try {
    const t0 = performance.now();
    const started = await Promise.all(names.map((n) => d.docker(["run", "-d", "--network", net, "--name", n, "busybox", "sleep", "300"], { timeoutMs: 120_000 })));
    const seconds = (performance.now() - t0) / 1000;
    assert.deepEqual(started.filter((r) => r.code !== 0).map((r) => r.stderr), []);
    console.log(`# 50 containers on one user network started concurrently in ${seconds.toFixed(2)} s`);

    const addresses = JSON.parse((await d.docker(["network", "inspect", "-f", "{{json .Containers}}", net])).stdout) as Record<string, { Name: string; IPv4Address: string }>;
    const byName = new Map(Object.values(addresses).map((c) => [c.Name, c.IPv4Address.split("/")[0]!]));
    assert.equal(byName.size, 50);
    assert.equal(new Set(byName.values()).size, 50, "every container has its own address");

    // One container resolves and pings every name; each line: name, the address it resolved, ping's verdict.
    const script = `for n in ${names.join(" ")}; do a=$(nslookup $n 2>/dev/null | awk '/^Address/ {x=$NF} END {print x}'); ` +
      `if ping -c 1 -W 2 $n >/dev/null 2>&1; then echo "$n $a up"; else echo "$n $a down"; fi; done`;
    const probe = await d.docker(["run", "--rm", "--network", net, "busybox", "sh", "-c", script], { timeoutMs: 150_000 });
    assert.equal(probe.code, 0, probe.stderr);
    const lines = probe.stdout.trim().split("\n").map((l) => l.split(" "));
    assert.equal(lines.length, 50);
    for (const [name, addr, state] of lines) {
      assert.equal(addr, byName.get(name!), `${name} resolves to its own address`);
      assert.equal(state, "up", `${name} answers a ping`);
    }
  } finally {
    await d.docker(["rm", "-f", ...names]);
    await d.docker(["network", "rm", net]);
  }
  // nothing of the network is left: its bridge and every veth on it
  assert.doesNotMatch((await run("ip", ["-o", "link", "show"])).stdout, new RegExp(`br-${netId.slice(0, 12)}`));
  let left = "";
  for (let i = 0; i < 50 && (left = (await run("ip", ["-o", "link", "show", "master", bridge])).stdout.trim()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(left, "");
});
