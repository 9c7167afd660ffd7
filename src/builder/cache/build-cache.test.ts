import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildCache, cacheKey, firstChange, sourcesDigest, type StepInputs } from "./build-cache.js";

const base = (over: Partial<StepInputs> = {}): StepInputs => ({
  parent: "sha256:p", kind: "RUN", instruction: "RUN make", resolved: 'RUN ["/bin/sh","-c","make"]', vars: {}, argNames: [], platform: "linux/amd64", ...over,
});

test("the key changes with each input and not with the order of vars", () => {
  const k = cacheKey(base({ vars: { A: "1", B: "2" } }));
  assert.equal(cacheKey(base({ vars: { B: "2", A: "1" } })), k);
  assert.notEqual(cacheKey(base({ vars: { A: "1", B: "3" } })), k);
  assert.notEqual(cacheKey(base({ parent: "sha256:q", vars: { A: "1", B: "2" } })), k);
  assert.notEqual(cacheKey(base({ resolved: "x", vars: { A: "1", B: "2" } })), k);
});

test("firstChange names the first changed, added or removed path", () => {
  assert.equal(firstChange([["a", "1"], ["b", "2"]], [["a", "1"], ["b", "3"]]), "b changed");
  assert.equal(firstChange([["a", "1"]], [["a", "1"], ["c", "9"]]), "c added");
  assert.equal(firstChange([["a", "1"], ["b", "2"]], [["a", "1"]]), "b removed");
});

test("explain: arg, env, files, instruction, parent, base image, none; records survive reopening", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-cache-"));
  try {
    let c = await BuildCache.open(dir);
    const run = base({ vars: { V: "1" }, argNames: ["V"] });
    await c.put(cacheKey(run), run, "sha256:img1");
    const files: [string, string][] = [["app/", "d"], ["app/a.js", "1"], ["app/b.js", "2"]];
    const copy = base({ kind: "COPY", instruction: "COPY app/ /app", resolved: "COPY x", sources: { digest: sourcesDigest(files), files } });
    await c.put(cacheKey(copy), copy, "sha256:img2");
    c = await BuildCache.open(dir);
    assert.equal(c.get(cacheKey(run))?.imageId, "sha256:img1");
    const ctx = { parentRebuilt: false, firstInStage: false };
    assert.equal(await c.explain({ ...run, vars: { V: "2" } }, ctx), "build arg V changed");
    assert.equal(await c.explain({ ...run, vars: { V: "1", HOME: "/x" } }, ctx), "env HOME changed");
    const changed: [string, string][] = [["app/", "d"], ["app/a.js", "1"], ["app/b.js", "22"]];
    assert.equal(await c.explain({ ...copy, sources: { digest: sourcesDigest(changed), files: changed } }, ctx), "app/b.js changed");
    assert.equal(await c.explain(base({ instruction: "RUN make test" }), ctx), "instruction changed (was: RUN make)");
    assert.equal(await c.explain(base({ parent: "sha256:other" }), { parentRebuilt: true, firstInStage: false }), "parent changed");
    assert.equal(await c.explain(base({ parent: "sha256:newbase" }), { parentRebuilt: false, firstInStage: true }), "base image changed");
    assert.equal(await c.explain(base({ parent: "sha256:x", instruction: "RUN other" }), ctx), "no earlier build");
    await c.delete(cacheKey(run));
    assert.equal((await BuildCache.open(dir)).list().length, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("reuse is kept in memory and written once by flushUsage; reopening sees it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-cache-"));
  try {
    const c = await BuildCache.open(dir);
    const run = base();
    const key = cacheKey(run);
    const put = await c.put(key, run, "sha256:img1");
    await new Promise((r) => setTimeout(r, 5));
    c.touch(key);
    c.touch(key);
    assert.equal(c.get(key)?.usageCount, 3);
    assert.equal((await BuildCache.open(dir)).get(key)?.usageCount, 1, "not on disk before the flush");
    await c.flushUsage();
    const again = await BuildCache.open(dir);
    assert.equal(again.get(key)?.usageCount, 3);
    assert.ok(again.get(key)!.lastUsed > put.lastUsed);
    assert.equal(again.get(key)?.created, put.created);
    await again.delete(key);
    assert.equal((await BuildCache.open(dir)).get(key), undefined, "a deleted record stays deleted whatever usage.json says");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
