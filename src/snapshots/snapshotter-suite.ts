import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { isKind } from "../errdefs/index.js";
import type { Snapshotter } from "./snapshotter.js";

/** The conformance suite every Snapshotter implementation runs. make() returns a fresh, empty snapshotter and a cleanup. */
export function snapshotterSuite(name: string, make: () => Promise<{ sn: Snapshotter; cleanup: () => Promise<void> }>): void {
  const withSn = (fn: (sn: Snapshotter) => Promise<void>) => async () => {
    const { sn, cleanup } = await make();
    try { await fn(sn); } finally { await cleanup(); }
  };

  test(`${name}: prepare, write, commit turns the key into a committed name`, withSn(async (sn) => {
    await sn.prepare("k1", null, { labels: { a: "b" } });
    await writeFile(join(await sn.dir("k1"), "hello"), "world");
    await sn.commit("layer1", "k1");
    await assert.rejects(sn.stat("k1"), (e) => isKind(e, "not-found"));
    const info = await sn.stat("layer1");
    assert.equal(info.kind, "committed");
    assert.equal(info.parent, null);
    assert.deepEqual(info.labels, { a: "b" });
    assert.equal(await readFile(join(await sn.dir("layer1"), "hello"), "utf8"), "world");
    await sn.prepare("k2", "layer1");
    assert.deepEqual(await sn.parentDirs("k2"), [await sn.dir("layer1")]);
    const names = [];
    for await (const i of sn.walk()) names.push(`${i.name}:${i.kind}:${i.parent}`);
    assert.deepEqual(names.sort(), ["k2:active:layer1", "layer1:committed:null"]);
    const u = await sn.usage("layer1");
    assert.deepEqual(u, { size: 5, inodes: 1 });
  }));

  test(`${name}: errors by kind`, withSn(async (sn) => {
    await assert.rejects(sn.prepare("k", "nope"), (e) => isKind(e, "not-found"));
    await sn.prepare("k", null);
    await assert.rejects(sn.prepare("k", null), (e) => isKind(e, "already-exists"));
    await assert.rejects(sn.prepare("k2", "k"), (e) => isKind(e, "invalid-argument"), "an active parent is refused");
    await assert.rejects(sn.commit("c", "missing"), (e) => isKind(e, "not-found"));
    await sn.commit("c", "k");
    await sn.prepare("k3", null);
    await assert.rejects(sn.commit("c", "k3"), (e) => isKind(e, "already-exists"));
    await sn.view("v", "c");
    await assert.rejects(sn.commit("c2", "v"), (e) => isKind(e, "invalid-argument"));
    await assert.rejects(sn.remove("missing"), (e) => isKind(e, "not-found"));
  }));

  test(`${name}: remove refuses a parent that has children`, withSn(async (sn) => {
    await sn.prepare("k", null);
    await sn.commit("base", "k");
    await sn.prepare("child", "base");
    await assert.rejects(sn.remove("base"), (e) => isKind(e, "conflict"));
    const d = await sn.dir("child");
    await sn.remove("child");
    await assert.rejects(stat(d), (e) => (e as NodeJS.ErrnoException).code === "ENOENT");
    await sn.remove("base");
    for await (const i of sn.walk()) assert.fail(`left over ${i.name}`);
  }));

  test(`${name}: mounts for a base, a child and views`, withSn(async (sn) => {
    const m0 = await sn.prepare("k0", null);
    assert.equal(m0.length, 1);
    assert.equal(m0[0]!.type, "bind");
    assert.ok(m0[0]!.options.includes("rw"));
    assert.deepEqual(await sn.mounts("k0"), m0);
    await sn.commit("l0", "k0");
    await sn.prepare("k1", "l0");
    await sn.commit("l1", "k1");
    const m = await sn.prepare("top", "l1");
    assert.equal(m[0]!.type, "overlay");
    const lower = m[0]!.options.find((o) => o.startsWith("lowerdir="));
    assert.equal(lower, `lowerdir=${[await sn.dir("l1"), await sn.dir("l0")].join(":")}`);
    assert.ok(m[0]!.options.includes(`upperdir=${await sn.dir("top")}`));
    const v1 = await sn.view("v1", "l0");
    assert.deepEqual(v1, [{ type: "bind", source: await sn.dir("l0"), options: ["ro", "rbind"] }]);
    const v2 = await sn.view("v2", "l1");
    assert.equal(v2[0]!.type, "overlay");
    assert.ok(!v2[0]!.options.some((o) => o.startsWith("upperdir=")));
    assert.equal((await sn.stat("v2")).kind, "view");
  }));
}
