import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDaemon, makeBusyboxImage, type TestDaemon, type RunResult } from "../helpers/daemon.js";

// network connect/disconnect of a container that is not running: kept in its record, as Docker keeps it in the
// container's config, and what the next start joins. Subnets come from the test daemon's own address pool.
let d: TestDaemon;
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
});
after(async () => { await d?.stop(); });

async function ok(r: Promise<RunResult>): Promise<string> {
  const res = await r;
  assert.equal(res.code, 0, `${res.stderr}\n${d.logs().slice(-2000)}`);
  return res.stdout;
}

async function networksOf(ctr: string): Promise<string[]> {
  return Object.keys(JSON.parse(await ok(d.docker(["inspect", "-f", "{{json .NetworkSettings.Networks}}", ctr]))) as object).sort();
}

/** The IPv4 addresses inside the running container, loopback aside. */
async function addressesIn(ctr: string): Promise<string[]> {
  const out = await ok(d.docker(["exec", ctr, "ip", "-o", "-4", "addr", "show"]));
  return out.split("\n").map((l) => /inet (\S+)\//.exec(l)?.[1]).filter((a): a is string => !!a && a !== "127.0.0.1").sort();
}

async function subnetOf(net: string): Promise<string> {
  return (await ok(d.docker(["network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", net]))).trim();
}

const inSubnet = (ip: string, cidr: string) => {
  const [base, bits] = cidr.split("/") as [string, string];
  const n = (s: string) => s.split(".").reduce((a, b) => a * 256 + Number(b), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(base) / size);
};

test("connect and disconnect of a stopped container are kept for its next start, including its first network", async () => {
  await ok(d.docker(["network", "create", "sn1"]));
  await ok(d.docker(["network", "create", "sn2"]));
  const [s1, s2] = [await subnetOf("sn1"), await subnetOf("sn2")];
  try {
    await ok(d.docker(["create", "--name", "sc", "--network", "sn1", "busybox", "sleep", "1000"]));
    await ok(d.docker(["network", "connect", "--alias", "second", "sn2", "sc"]));
    assert.deepEqual(await networksOf("sc"), ["sn1", "sn2"]);
    const twice = await d.docker(["network", "connect", "sn2", "sc"]);
    assert.notEqual(twice.code, 0);
    assert.match(twice.stderr, /endpoint with name sc already exists in network sn2/);

    // Its first network goes, while stopped: the next start joins only sn2, under its alias.
    await ok(d.docker(["network", "disconnect", "sn1", "sc"]));
    assert.deepEqual(await networksOf("sc"), ["sn2"]);
    const again = await d.docker(["network", "disconnect", "sn1", "sc"]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /is not connected to network sn1/);
    await ok(d.docker(["network", "disconnect", "--force", "sn1", "sc"]));
    await ok(d.docker(["start", "sc"]));
    const addrs = await addressesIn("sc");
    assert.equal(addrs.length, 1, addrs.join(" "));
    assert.ok(inSubnet(addrs[0]!, s2), `${addrs[0]} in ${s2}`);
    assert.deepEqual(await networksOf("sc"), ["sn2"]);
    assert.deepEqual((JSON.parse(await ok(d.docker(["inspect", "-f", "{{json .NetworkSettings.Networks.sn2.Aliases}}", "sc"]))) as string[]).includes("second"), true);

    // Live connect is kept too: after a restart the container is on both networks.
    await ok(d.docker(["network", "connect", "sn1", "sc"]));
    await ok(d.docker(["restart", "-t", "0", "sc"]));
    const both = await addressesIn("sc");
    assert.equal(both.length, 2, both.join(" "));
    assert.ok(both.some((a) => inSubnet(a, s1)) && both.some((a) => inSubnet(a, s2)), both.join(" "));

    // Live disconnect of both, then a start: only loopback.
    await ok(d.docker(["network", "disconnect", "sn1", "sc"]));
    await ok(d.docker(["network", "disconnect", "sn2", "sc"]));
    await ok(d.docker(["restart", "-t", "0", "sc"]));
    assert.deepEqual(await addressesIn("sc"), []);
    assert.deepEqual(await networksOf("sc"), []);
  } finally {
    await d.docker(["rm", "-f", "sc"]);
    await d.docker(["network", "rm", "sn1", "sn2"]);
  }
});
