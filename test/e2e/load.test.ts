import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { startDaemon, makeBusyboxImage, type TestDaemon } from "../helpers/daemon.js";

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
});
after(async () => { await d?.stop(); });

test("200 concurrent API requests all succeed", { timeout: 60_000 }, async () => {
  const paths = ["/_ping", "/version", "/info", "/images/json", "/containers/json?all=1", "/images/busybox/json"];
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => d.api("GET", paths[i % paths.length]!)));
  const bad = results.filter((r) => r.status !== 200);
  assert.equal(bad.length, 0, JSON.stringify(bad.slice(0, 3)));
});

test("20 containers created, started and removed concurrently leave nothing behind", { timeout: 120_000 }, async () => {
  const mountsBefore = (await readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((l) => l.includes(d.root) && !l.includes("/netns/")).length;
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    d.docker(["run", "--rm", "--name", `load-${i}`, "busybox", "sh", "-c", `echo ${i}`])));
  results.forEach((r, i) => {
    assert.equal(r.code, 0, `load-${i}: ${r.stderr}`);
    assert.equal(r.stdout, `${i}\n`);
  });
  const ids = await Promise.all(Array.from({ length: 20 }, async (_, i) =>
    (await d.docker(["run", "-d", "--name", `bg-${i}`, "busybox", "sleep", "60"])).stdout.trim()));
  assert.equal((await d.docker(["ps", "-q"])).stdout.trim().split("\n").length, 20);
  const rms = await Promise.all(ids.map((id) => d.docker(["rm", "-f", id])));
  rms.forEach((r) => assert.equal(r.code, 0, r.stderr));
  assert.equal((await d.docker(["ps", "-aq"])).stdout.trim(), "");
  const mountsAfter = (await readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((l) => l.includes(d.root) && !l.includes("/netns/")).length;
  assert.equal(mountsAfter, mountsBefore, "no rootfs mount left behind");
});
