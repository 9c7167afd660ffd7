import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveRegistry } from "./main.js";
import { createLogger } from "../util/index.js";

const sha = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const logger = createLogger("error");

async function blobCount(root: string): Promise<number> {
  return (await readdir(join(root, "blobs", "sha256"))).length;
}

test("GC deletes unreferenced blobs, keeps referenced ones and ones a push in flight is about to reference", async () => {
  const root = await mkdtemp(join(tmpdir(), "berth-reg-gc-"));
  const reg = await serveRegistry({ root, addr: "127.0.0.1:0", gcIntervalMs: 0, delete: true, logger });
  const base = `http://${reg.address}`;
  const up = async (name: string, data: Buffer) => {
    const d = sha(data);
    const r = await fetch(`${base}/v2/${name}/blobs/uploads/?digest=${d}`, { method: "POST", body: data });
    assert.equal(r.status, 201);
    return d;
  };
  const age = async (d: string) => {
    const old = new Date(Date.now() - 3600_000);
    await utimes(join(root, "blobs", "sha256", d.slice(7)), old, old);
  };
  const manifest = (config: string, cfgSize: number, layers: [string, number][]) => JSON.stringify({
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: cfgSize },
    layers: layers.map(([digest, size]) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest, size })),
  });
  try {
    const layer = randomBytes(4096);
    const cfg = Buffer.from('{"rootfs":{"type":"layers","diff_ids":[]}}');
    const l = await up("keep", layer);
    const c = await up("keep", cfg);
    const body = manifest(c, cfg.length, [[l, layer.length]]);
    assert.equal((await fetch(`${base}/v2/keep/manifests/v1`, { method: "PUT", body, headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" } })).status, 201);
    const orphan = await up("junk", randomBytes(1000));
    const fresh = await up("junk", randomBytes(1000));
    for (const d of [l, c, orphan, sha(body)]) await age(d);
    // A push in flight: its layer was uploaded long ago (old mtime) and it HEADs it now, before the manifest.
    const reused = await up("inflight", randomBytes(2000));
    await age(reused);
    assert.equal((await fetch(`${base}/v2/inflight/blobs/${reused}`, { method: "HEAD" })).status, 200);
    // A chunked upload in progress during GC.
    const loc = (await fetch(`${base}/v2/inflight/blobs/uploads/`, { method: "POST" })).headers.get("location")!;
    const part = randomBytes(5000);
    await fetch(`${base}${loc}`, { method: "PATCH", body: part.subarray(0, 2500), headers: { "Content-Range": "0-2499" } });

    const gc = reg.gc({ graceMs: 60_000 });
    // The push goes on while the GC runs.
    const patch = fetch(`${base}${loc}`, { method: "PATCH", body: part.subarray(2500), headers: { "Content-Range": "2500-4999" } });
    const res = await gc;
    assert.equal((await patch).status, 202);
    assert.equal(res.blobsDeleted, 1);
    assert.equal((await fetch(`${base}/v2/junk/blobs/${orphan}`, { method: "HEAD" })).status, 404);
    assert.equal((await fetch(`${base}/v2/junk/blobs/${fresh}`, { method: "HEAD" })).status, 200);
    assert.equal((await fetch(`${base}/v2/keep/manifests/v1`)).status, 200);
    assert.equal((await fetch(`${base}/v2/keep/blobs/${l}`)).status, 200);
    const put = await fetch(`${base}${loc}?digest=${sha(part)}`, { method: "PUT" });
    assert.equal(put.status, 201);
    const cfg2 = await up("inflight", Buffer.from('{"rootfs":{"type":"layers","diff_ids":[]},"n":2}'));
    const m2 = manifest(cfg2, 47, [[reused, 2000], [sha(part), 5000]]);
    const r2 = await fetch(`${base}/v2/inflight/manifests/v1`, { method: "PUT", body: m2, headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" } });
    assert.equal(r2.status, 201, await r2.text());
    // With the grace period over, a second GC removes the now-unreferenced fresh blob only.
    const before = await blobCount(root);
    const res2 = await reg.gc({ graceMs: -3600_000 });
    assert.equal(res2.blobsDeleted, 1);
    assert.equal(await blobCount(root), before - 1);
    assert.equal((await fetch(`${base}/v2/inflight/manifests/v1`)).status, 200);
    assert.equal((await fetch(`${base}/v2/inflight/blobs/${reused}`, { method: "HEAD" })).status, 200);
  } finally {
    await reg.close();
    await rm(root, { recursive: true, force: true });
  }
});

test("GC expires stale uploads", async () => {
  const root = await mkdtemp(join(tmpdir(), "berth-reg-gc2-"));
  const reg = await serveRegistry({ root, addr: "127.0.0.1:0", gcIntervalMs: 0, logger });
  try {
    const loc = (await fetch(`http://${reg.address}/v2/x/blobs/uploads/`, { method: "POST" })).headers.get("location")!;
    const res = await reg.gc({ uploadTtlMs: -1 });
    assert.equal(res.uploadsExpired, 1);
    assert.equal((await fetch(`http://${reg.address}${loc}`)).status, 404);
  } finally {
    await reg.close();
    await rm(root, { recursive: true, force: true });
  }
});
