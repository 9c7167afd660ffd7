import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { serveRegistry, type RunningRegistry } from "./main.js";
import { createLogger } from "../util/index.js";

const sha = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
let reg: RunningRegistry;
let root: string;
let base: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "berth-reg-"));
  reg = await serveRegistry({ root, addr: "127.0.0.1:0", delete: true, gcIntervalMs: 0, logger: createLogger("error") });
  base = `http://${reg.address}`;
});
after(async () => {
  await reg.close();
  await rm(root, { recursive: true, force: true });
});

async function upload(name: string, data: Buffer): Promise<string> {
  const d = sha(data);
  const r = await fetch(`${base}/v2/${name}/blobs/uploads/?digest=${d}`, { method: "POST", body: data, headers: { "Content-Type": "application/octet-stream" } });
  assert.equal(r.status, 201);
  return d;
}

async function putImage(name: string, tag: string, extra: Record<string, unknown> = {}): Promise<{ digest: string; config: string; layer: string; body: string }> {
  const layer = await upload(name, Buffer.from(`layer of ${name}:${tag}`));
  const cfgBytes = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layer] } }));
  const config = await upload(name, cfgBytes);
  const body = JSON.stringify({
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: cfgBytes.length },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layer, size: Buffer.byteLength(`layer of ${name}:${tag}`) }],
    ...extra,
  });
  const r = await fetch(`${base}/v2/${name}/manifests/${tag}`, { method: "PUT", body, headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" } });
  assert.equal(r.status, 201, await r.text());
  assert.equal(r.headers.get("docker-content-digest"), sha(body));
  return { digest: sha(body), config, layer, body };
}

test("base endpoint answers 200 with the API version header", async () => {
  const r = await fetch(`${base}/v2/`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("docker-distribution-api-version"), "registry/2.0");
});

test("POST then PUT monolithic upload, HEAD and GET with Range", async () => {
  const data = Buffer.from("hello blob world");
  const d = sha(data);
  const p = await fetch(`${base}/v2/a/b/blobs/uploads/`, { method: "POST" });
  assert.equal(p.status, 202);
  const loc = p.headers.get("location")!;
  assert.match(loc, /^\/v2\/a\/b\/blobs\/uploads\/[0-9a-f-]{36}$/);
  assert.ok(p.headers.get("docker-upload-uuid"));
  const put = await fetch(`${base}${loc}?digest=${d}`, { method: "PUT", body: data });
  assert.equal(put.status, 201);
  assert.equal(put.headers.get("location"), `/v2/a/b/blobs/${d}`);
  const head = await fetch(`${base}/v2/a/b/blobs/${d}`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), String(data.length));
  assert.equal(head.headers.get("docker-content-digest"), d);
  const part = await fetch(`${base}/v2/a/b/blobs/${d}`, { headers: { Range: "bytes=6-9" } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get("content-range"), `bytes 6-9/${data.length}`);
  assert.equal(await part.text(), "blob");
  const bad = await fetch(`${base}/v2/a/b/blobs/${d}`, { headers: { Range: "bytes=100-" } });
  assert.equal(bad.status, 416);
  // Blobs are visible per repository.
  assert.equal((await fetch(`${base}/v2/other/blobs/${d}`, { method: "HEAD" })).status, 404);
});

test("chunked upload with Content-Range, status, out-of-order chunk, final PUT with body", async () => {
  const parts = [Buffer.alloc(1000, 1), Buffer.alloc(500, 2), Buffer.alloc(10, 3)];
  const d = sha(Buffer.concat(parts));
  let loc = (await fetch(`${base}/v2/chunky/blobs/uploads/`, { method: "POST" })).headers.get("location")!;
  let r = await fetch(`${base}${loc}`, { method: "PATCH", body: parts[0], headers: { "Content-Range": "0-999", "Content-Type": "application/octet-stream" } });
  assert.equal(r.status, 202);
  assert.equal(r.headers.get("range"), "0-999");
  loc = r.headers.get("location")!;
  r = await fetch(`${base}${loc}`, { method: "PATCH", body: parts[1], headers: { "Content-Range": "2000-2499" } });
  assert.equal(r.status, 416);
  const st = await fetch(`${base}${loc}`);
  assert.equal(st.status, 204);
  assert.equal(st.headers.get("range"), "0-999");
  r = await fetch(`${base}${loc}`, { method: "PATCH", body: parts[1], headers: { "Content-Range": "1000-1499" } });
  assert.equal(r.status, 202);
  r = await fetch(`${base}${loc}?digest=${d}`, { method: "PUT", body: parts[2], headers: { "Content-Range": "1500-1509" } });
  assert.equal(r.status, 201);
  assert.equal(Buffer.from(await (await fetch(`${base}/v2/chunky/blobs/${d}`)).arrayBuffer()).equals(Buffer.concat(parts)), true);
});

test("a streamed PATCH without Content-Range then an empty PUT (Docker's graphdriver push)", async () => {
  const data = Buffer.alloc(3 << 20, 7);
  const d = sha(data);
  const loc = (await fetch(`${base}/v2/stream/blobs/uploads/`, { method: "POST" })).headers.get("location")!;
  const r = await fetch(`${base}${loc}`, { method: "PATCH", body: data });
  assert.equal(r.status, 202);
  const put = await fetch(`${base}${r.headers.get("location")}?digest=${d}`, { method: "PUT" });
  assert.equal(put.status, 201);
});

test("a digest mismatch is refused and nothing becomes visible", async () => {
  const data = Buffer.from("actual bytes");
  const wrong = sha("other bytes");
  const loc = (await fetch(`${base}/v2/mm/blobs/uploads/`, { method: "POST" })).headers.get("location")!;
  const r = await fetch(`${base}${loc}?digest=${wrong}`, { method: "PUT", body: data });
  assert.equal(r.status, 400);
  assert.equal(((await r.json()) as { errors: { code: string }[] }).errors[0]!.code, "DIGEST_INVALID");
  assert.equal((await fetch(`${base}/v2/mm/blobs/${wrong}`, { method: "HEAD" })).status, 404);
  assert.equal((await fetch(`${base}/v2/mm/blobs/${sha(data)}`, { method: "HEAD" })).status, 404);
  assert.equal((await fetch(`${base}${loc}`)).status, 404);
  assert.deepEqual((await readdir(join(root, "blobs", "sha256"))).filter((n) => n.includes(wrong.slice(7))), []);
  const mono = await fetch(`${base}/v2/mm/blobs/uploads/?digest=${wrong}`, { method: "POST", body: data });
  assert.equal(mono.status, 400);
});

test("cancel an upload", async () => {
  const loc = (await fetch(`${base}/v2/cancel/blobs/uploads/`, { method: "POST" })).headers.get("location")!;
  assert.equal((await fetch(`${base}${loc}`, { method: "DELETE" })).status, 204);
  assert.equal((await fetch(`${base}${loc}`)).status, 404);
});

test("cross-repository mount, and fallback to an upload when the source lacks the blob", async () => {
  const d = await upload("src/repo", Buffer.from("mount me"));
  const r = await fetch(`${base}/v2/dst/repo/blobs/uploads/?mount=${d}&from=src/repo`, { method: "POST" });
  assert.equal(r.status, 201);
  assert.equal(r.headers.get("docker-content-digest"), d);
  assert.equal((await fetch(`${base}/v2/dst/repo/blobs/${d}`, { method: "HEAD" })).status, 200);
  const miss = await fetch(`${base}/v2/dst/repo/blobs/uploads/?mount=${sha("nope")}&from=src/repo`, { method: "POST" });
  assert.equal(miss.status, 202);
  assert.ok(miss.headers.get("location"));
});

test("manifests by tag and digest, HEAD, missing blobs, wrong digest, unknown tag", async () => {
  const img = await putImage("app", "v1");
  for (const ref of ["v1", img.digest]) {
    const g = await fetch(`${base}/v2/app/manifests/${ref}`, { headers: { Accept: "application/vnd.oci.image.manifest.v1+json" } });
    assert.equal(g.status, 200);
    assert.equal(g.headers.get("content-type"), "application/vnd.oci.image.manifest.v1+json");
    assert.equal(g.headers.get("docker-content-digest"), img.digest);
    assert.equal(await g.text(), img.body);
  }
  const h = await fetch(`${base}/v2/app/manifests/v1`, { method: "HEAD" });
  assert.equal(h.status, 200);
  assert.equal(h.headers.get("content-length"), String(Buffer.byteLength(img.body)));
  const missing = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha("no config"), size: 9 }, layers: [] });
  const m = await fetch(`${base}/v2/app/manifests/bad`, { method: "PUT", body: missing, headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" } });
  assert.equal(m.status, 400);
  assert.equal(((await m.json()) as { errors: { code: string }[] }).errors[0]!.code, "MANIFEST_BLOB_UNKNOWN");
  const wd = await fetch(`${base}/v2/app/manifests/${sha("x")}`, { method: "PUT", body: img.body, headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" } });
  assert.equal(wd.status, 400);
  const unk = await fetch(`${base}/v2/app/manifests/nope`);
  assert.equal(unk.status, 404);
  assert.equal(((await unk.json()) as { errors: { code: string }[] }).errors[0]!.code, "MANIFEST_UNKNOWN");
  const noRepo = await fetch(`${base}/v2/never/seen/manifests/latest`);
  assert.equal(((await noRepo.json()) as { errors: { code: string }[] }).errors[0]!.code, "NAME_UNKNOWN");
  const badName = await fetch(`${base}/v2/UPPER/manifests/latest`);
  assert.equal(badName.status, 400);
});

test("an index referencing its manifests, and one referencing an unknown manifest", async () => {
  const img = await putImage("multi", "amd64");
  const index = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: img.digest, size: Buffer.byteLength(img.body), platform: { architecture: "amd64", os: "linux" } }] });
  const r = await fetch(`${base}/v2/multi/manifests/latest`, { method: "PUT", body: index, headers: { "Content-Type": "application/vnd.oci.image.index.v1+json" } });
  assert.equal(r.status, 201);
  const bad = index.replace(img.digest, sha("nothing"));
  const r2 = await fetch(`${base}/v2/multi/manifests/broken`, { method: "PUT", body: bad, headers: { "Content-Type": "application/vnd.oci.image.index.v1+json" } });
  assert.equal(r2.status, 400);
});

test("tags list with pagination and Link, catalog", async () => {
  for (const t of ["c", "a", "b", "d"]) await putImage("paged", t);
  const all = await (await fetch(`${base}/v2/paged/tags/list`)).json();
  assert.deepEqual(all, { name: "paged", tags: ["a", "b", "c", "d"] });
  const p1 = await fetch(`${base}/v2/paged/tags/list?n=2`);
  assert.deepEqual(((await p1.json()) as { tags: string[] }).tags, ["a", "b"]);
  assert.equal(p1.headers.get("link"), '</v2/paged/tags/list?n=2&last=b>; rel="next"');
  const p2 = await fetch(`${base}/v2/paged/tags/list?n=2&last=b`);
  assert.deepEqual(((await p2.json()) as { tags: string[] }).tags, ["c", "d"]);
  assert.equal(p2.headers.get("link"), null);
  const zero = await (await fetch(`${base}/v2/paged/tags/list?n=0`)).json();
  assert.deepEqual(zero, { name: "paged", tags: [] });
  const cat = (await (await fetch(`${base}/v2/_catalog`)).json()) as { repositories: string[] };
  assert.ok(cat.repositories.includes("paged") && cat.repositories.includes("app"));
  assert.deepEqual(cat.repositories, [...cat.repositories].sort());
  const bad = await fetch(`${base}/v2/_catalog?n=-1`);
  assert.equal(bad.status, 400);
});

test("referrers: artifacts with a subject are listed and filtered", async () => {
  const img = await putImage("withrefs", "v1");
  const empty = await upload("withrefs", Buffer.from("{}"));
  const sig = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", artifactType: "application/vnd.example.sig",
    config: { mediaType: "application/vnd.oci.empty.v1+json", digest: empty, size: 2 }, layers: [],
    subject: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: img.digest, size: Buffer.byteLength(img.body) },
    annotations: { "org.example": "yes" } });
  const r = await fetch(`${base}/v2/withrefs/manifests/${sha(sig)}`, { method: "PUT", body: sig, headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" } });
  assert.equal(r.status, 201);
  assert.equal(r.headers.get("oci-subject"), img.digest);
  const list = (await (await fetch(`${base}/v2/withrefs/referrers/${img.digest}`)).json()) as { manifests: { digest: string; artifactType: string; annotations: Record<string, string> }[] };
  assert.equal(list.manifests.length, 1);
  assert.equal(list.manifests[0]!.digest, sha(sig));
  assert.equal(list.manifests[0]!.artifactType, "application/vnd.example.sig");
  assert.equal(list.manifests[0]!.annotations["org.example"], "yes");
  const filtered = await fetch(`${base}/v2/withrefs/referrers/${img.digest}?artifactType=other`);
  assert.equal(filtered.headers.get("oci-filters-applied"), "artifactType");
  assert.equal(((await filtered.json()) as { manifests: unknown[] }).manifests.length, 0);
  assert.equal((await fetch(`${base}/v2/withrefs/referrers/${sha("none")}`)).status, 200);
  assert.equal((await fetch(`${base}/v2/withrefs/referrers/notadigest`)).status, 400);
});

test("delete a tag, then the manifest by digest, then a blob link", async () => {
  const img = await putImage("del", "v1");
  await fetch(`${base}/v2/del/manifests/v1`, { method: "PUT", body: img.body, headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" } });
  assert.equal((await fetch(`${base}/v2/del/manifests/v1`, { method: "DELETE" })).status, 202);
  assert.equal((await fetch(`${base}/v2/del/manifests/v1`)).status, 404);
  assert.equal((await fetch(`${base}/v2/del/manifests/${img.digest}`)).status, 200);
  assert.equal((await fetch(`${base}/v2/del/manifests/${img.digest}`, { method: "DELETE" })).status, 202);
  assert.equal((await fetch(`${base}/v2/del/manifests/${img.digest}`)).status, 404);
  assert.equal((await fetch(`${base}/v2/del/blobs/${img.layer}`, { method: "DELETE" })).status, 202);
  assert.equal((await fetch(`${base}/v2/del/blobs/${img.layer}`, { method: "HEAD" })).status, 404);
});
