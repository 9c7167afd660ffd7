import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ContentStore } from "./index.js";
import { isKind } from "../errdefs/index.js";
import { sha256 } from "../util/index.js";

async function withStore(fn: (s: ContentStore, root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "berth-content-"));
  try {
    await fn(await ContentStore.open(root), root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

test("writer streams, verifies and installs a blob", () => withStore(async (s) => {
  const data = Buffer.alloc(3 << 20, 7);
  const digest = sha256(data);
  const w = await s.writer("layer-1", { expected: { digest, size: data.length } });
  await pipeline(Readable.from([data.subarray(0, 100), data.subarray(100)]), w);
  assert.deepEqual(await w.commit(), { digest, size: data.length });
  assert.equal(await s.has(digest), true);
  assert.deepEqual(await s.info(digest), { digest, size: data.length });
  assert.deepEqual(await readAll(s.reader(digest, { start: 5 })), data.subarray(5));
  const all = [];
  for await (const b of s.walk()) all.push(b);
  assert.deepEqual(all, [{ digest, size: data.length }]);
  const ingests = [];
  for await (const i of s.ingests()) ingests.push(i);
  assert.equal(ingests.length, 0);
}));

test("commit with the wrong digest or size is data-loss and installs nothing", () => withStore(async (s) => {
  const data = Buffer.from("hello");
  const w = await s.writer("x");
  w.end(data);
  await assert.rejects(w.commit({ digest: sha256("other") }), (e) => isKind(e, "data-loss") && /unexpected commit digest/.test((e as Error).message));
  assert.equal(await s.has(sha256(data)), false);
  const w2 = await s.writer("y", { expected: { size: 4 } });
  await assert.rejects(pipeline(Readable.from([data]), w2), (e) => isKind(e, "data-loss"));
  await w2.abort();
  const w3 = await s.writer("z");
  w3.end(data);
  await assert.rejects(w3.commit({ size: 6 }), (e) => isKind(e, "data-loss") && /size/.test((e as Error).message));
}));

test("an interrupted ingest resumes at its offset with the same ref", () => withStore(async (s) => {
  const data = Buffer.from("0123456789".repeat(1000));
  const digest = sha256(data);
  const w = await s.writer("pull-a", { expected: { digest } });
  await new Promise<void>((res) => w.write(data.subarray(0, 4000), () => res()));
  w.on("error", () => {});
  w.destroy(new Error("connection reset"));
  await new Promise((r) => w.once("close", r));
  const w2 = await s.writer("pull-a", { expected: { digest } });
  assert.equal(w2.offset(), 4000);
  await pipeline(Readable.from([data.subarray(w2.offset())]), w2);
  assert.deepEqual(await w2.commit(), { digest, size: data.length });
}));

test("a ref in use is locked, abort drops the ingest", () => withStore(async (s, root) => {
  const w = await s.writer("busy");
  await assert.rejects(s.writer("busy"), (e) => isKind(e, "unavailable"));
  w.write("abc");
  await w.abort();
  assert.deepEqual(await readdir(join(root, "ingest")), []);
  const again = await s.writer("busy");
  assert.equal(again.offset(), 0);
  await again.abort();
}));

test("not-found, bad digests, small blobs, delete, sweep", () => withStore(async (s, root) => {
  const missing = sha256("missing");
  assert.throws(() => s.reader(missing), (e) => isKind(e, "not-found") && (e as Error).message === `content ${missing}: not found`);
  await assert.rejects(s.info(missing), (e) => isKind(e, "not-found"));
  await assert.rejects(s.delete(missing), (e) => isKind(e, "not-found"));
  assert.throws(() => s.path("sha256:xyz" as never), (e) => isKind(e, "invalid-argument"));
  const cfg = JSON.stringify({ a: 1 });
  const put = await s.putBytes(cfg, sha256(cfg));
  assert.equal(put.digest, sha256(cfg));
  assert.equal((await s.readBytes(put.digest)).toString(), cfg);
  await assert.rejects(s.readBytes(put.digest, 2), (e) => isKind(e, "invalid-argument"));
  await assert.rejects(s.putBytes("x", sha256("y")), (e) => isKind(e, "data-loss"));
  assert.equal((await stat(s.path(put.digest))).mode & 0o777, 0o444);
  await s.delete(put.digest);
  assert.equal(await s.has(put.digest), false);
  const w = await s.writer("stale");
  w.write("partial");
  w.destroy();
  await new Promise((r) => w.once("close", r));
  assert.equal((await readdir(join(root, "ingest"))).length, 1);
  await s.sweepIngests(60_000);
  assert.equal((await readdir(join(root, "ingest"))).length, 1, "fresh ingests survive a sweep with an age");
  await s.sweepIngests();
  assert.deepEqual(await readdir(join(root, "ingest")), []);
}));

test("an aborted signal tears the writer down but keeps the ingest for a resume", () => withStore(async (s) => {
  const ac = new AbortController();
  const w = await s.writer("sig", { signal: ac.signal });
  assert.deepEqual(w.status(), { ref: "sig", offset: 0 });
  await new Promise<void>((res) => w.write("abc", () => res()));
  const err = new Promise((res) => w.once("error", res));
  ac.abort();
  assert.ok(isKind(await err, "cancelled"));
  await new Promise((r) => (w.closed ? r(null) : w.once("close", r)));
  const again = await s.writer("sig");
  assert.equal(again.offset(), 3);
  again.end("def");
  assert.deepEqual(await again.commit(), { digest: sha256("abcdef"), size: 6 });
}));
