import { test } from "node:test";
import assert from "node:assert/strict";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { createLogger, sha256, type Digest } from "../util/index.js";
import { isKind } from "../errdefs/index.js";
import { LocalImagesService } from "./images-service.js";
import type { ImageUsage } from "./types.js";

const logger = createLogger("error");
const BUSYBOX = "/usr/bin/busybox";

/** A busybox rootfs tar: bin/busybox plus a few applet symlinks. */
function busyboxTar(extra: { name: string; data: string }[] = []): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  pack.pipe(out);
  void (async () => {
    const mtime = new Date(1_700_000_000_000);
    pack.entry({ name: "bin/", type: "directory", mode: 0o755, mtime });
    const size = (await stat(BUSYBOX)).size;
    await new Promise<void>((resolve, reject) => {
      const e = pack.entry({ name: "bin/busybox", size, mode: 0o755, mtime }, (err) => (err ? reject(err) : resolve()));
      createReadStream(BUSYBOX).pipe(e as unknown as NodeJS.WritableStream);
    });
    for (const app of ["sh", "echo", "true", "ls", "cat"]) {
      pack.entry({ name: `bin/${app}`, type: "symlink", linkname: "busybox", mode: 0o777, mtime });
    }
    for (const f of extra) pack.entry({ name: f.name, mode: 0o644, mtime }, f.data);
    pack.finalize();
  })().catch((err) => out.destroy(err as Error));
  return out;
}

async function tarOf(entries: { name: string; data: Buffer | string; type?: "file" | "directory" }[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === "directory") pack.entry({ name: e.name, type: "directory" });
    else pack.entry({ name: e.name }, typeof e.data === "string" ? Buffer.from(e.data) : e.data);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function withService(fn: (svc: LocalImagesService, root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "berth-images-"));
  try {
    const svc = await LocalImagesService.open({ dataRoot: root, logger });
    await fn(svc, root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function assertEmpty(svc: LocalImagesService): Promise<void> {
  assert.deepEqual(await svc.list({ all: true }), []);
  assert.deepEqual(await collect(svc.snapshotter.walk()), []);
  assert.deepEqual(await collect(svc.content.walk()), []);
  assert.deepEqual(await collect(svc.content.ingests()), []);
}

test("import a busybox rootfs: inspect, history, list, resolve", async () => {
  await withService(async (svc) => {
    const id = await svc.import(busyboxTar(), { repo: "busybox", changes: ['CMD ["sh"]', "ENV A=1"] });
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    const ins = await svc.inspect("busybox");
    assert.equal(ins.Id, id);
    assert.deepEqual(ins.RepoTags, ["busybox:latest"]);
    assert.equal(ins.RootFS.Layers.length, 1);
    assert.equal(ins.Comment, "Imported from -");
    assert.deepEqual(ins.Config.Cmd, ["sh"]);
    assert.deepEqual(ins.Config.Env, ["A=1"]);
    assert.equal(ins.GraphDriver.Name, "overlay2");
    assert.equal(ins.Os, "linux");
    assert.notEqual(ins.Metadata.LastTagTime, "0001-01-01T00:00:00Z");
    const layer = ins.RootFS.Layers[0]! as Digest;
    const blobSize = (await svc.content.info(layer)).size;
    assert.equal(ins.Size, blobSize);
    assert.ok(blobSize > (await stat(BUSYBOX)).size);
    // The config blob is the image id; the unpacked layer is a committed snapshot named by its chain id.
    assert.equal(sha256(await svc.content.readBytes(id as Digest)), id);
    const snap = await svc.snapshotter.stat(layer);
    assert.equal(snap.kind, "committed");
    const dir = await svc.snapshotter.dir(layer);
    assert.equal((await stat(join(dir, "bin", "busybox"))).size, (await stat(BUSYBOX)).size);

    const hist = await svc.history(id.slice(7, 19));
    assert.equal(hist.length, 1);
    assert.equal(hist[0]!.Id, id);
    assert.equal(hist[0]!.Size, blobSize);
    assert.equal(hist[0]!.Comment, "Imported from -");
    assert.equal(hist[0]!.CreatedBy, "");
    assert.deepEqual(hist[0]!.Tags, ["busybox:latest"]);

    const list = await svc.list();
    assert.equal(list.length, 1);
    assert.deepEqual(list[0]!.RepoTags, ["busybox:latest"]);
    assert.equal(list[0]!.Size, blobSize);
    assert.equal((await svc.list({ filters: { reference: ["bus*:lat*"] } })).length, 1);
    assert.equal((await svc.list({ filters: { reference: ["alpine"] } })).length, 0);
    assert.equal((await svc.list({ filters: { dangling: ["true"] } })).length, 0);

    const r = await svc.resolve("docker.io/library/busybox:latest");
    assert.equal(r.id, id);
    assert.equal(r.topSnapshot, layer);
    assert.deepEqual(r.config.Cmd, ["sh"]);
    assert.equal((await svc.resolve(id.slice(7, 8))).id, id);
    await assert.rejects(svc.resolve("alpine"), { message: "No such image: alpine:latest" });
    await assert.rejects(svc.inspect("Busybox"), { message: "invalid reference format: repository name (library/Busybox) must be lowercase" });

    // Metadata-only step on top: empty_layer history entry, no new layer.
    const child = await svc.commitLayer({ parent: id, layer: null, config: { ...r.config, User: "1000" }, createdBy: "/bin/sh -c #(nop)  USER 1000" });
    const ch = await svc.history(child);
    assert.equal(ch.length, 2);
    assert.equal(ch[0]!.Id, child);
    assert.equal(ch[0]!.Size, 0);
    assert.equal(ch[1]!.Id, "<missing>");
    assert.equal((await svc.inspect(child)).Parent, id);
    // An untagged image with no children is dangling; the parent now has a child.
    assert.deepEqual((await svc.list({ filters: { dangling: ["true"] } })).map((i) => i.Id), [child]);
    await assert.rejects(svc.remove(id, { force: true }), (e: unknown) => isKind(e, "conflict") && /image has dependent child images/.test((e as Error).message));
  });
});

test("tag, untag and rmi follow Docker's rules and messages", async () => {
  await withService(async (svc) => {
    const id = await svc.import(busyboxTar(), { repo: "busybox", tag: "latest" });
    const short = id.slice(7, 19);
    await svc.tag("busybox", "localhost:5000/x", "1");
    await svc.tag(short, "other:2");
    await assert.rejects(svc.tag("busybox", "Bad"), (e: unknown) => isKind(e, "invalid-argument"));
    await assert.rejects(svc.tag("busybox", "x", "-bad"), (e: unknown) => isKind(e, "invalid-argument"));
    assert.deepEqual((await svc.inspect(id)).RepoTags.sort(), ["busybox:latest", "localhost:5000/x:1", "other:2"]);

    await assert.rejects(svc.remove(short), { message: `conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories` });
    assert.deepEqual(await svc.remove("other:2"), [{ Untagged: "other:2" }]);

    let users: { id: string; running: boolean }[] = [{ id: "c".repeat(64), running: false }];
    const usage: ImageUsage = { containersUsing: async (img) => (img === id ? users : []) };
    svc.setUsage(usage);
    await svc.remove("localhost:5000/x:1");
    await assert.rejects(svc.remove("busybox"), {
      message: `conflict: unable to remove repository reference "busybox" (must force) - container ${"c".repeat(12)} is using its referenced image ${short}`,
    });
    users = [{ id: "d".repeat(64), running: true }];
    await assert.rejects(svc.remove(id, { force: true }), {
      message: `conflict: unable to delete ${short} (cannot be forced) - image is being used by running container ${"d".repeat(12)}`,
    });
    users = [];
    const layer = (await svc.inspect(id)).RootFS.Layers[0]!;
    const res = await svc.remove("busybox");
    assert.deepEqual(res, [{ Untagged: "busybox:latest" }, { Deleted: id }, { Deleted: layer }]);
    await assert.rejects(svc.inspect(id), { message: `No such image: ${id}` });
    await assertEmpty(svc);
  });
});

test("prune removes dangling images only, unless dangling=false", async () => {
  await withService(async (svc) => {
    const tagged = await svc.import(busyboxTar(), { repo: "keep" });
    const dangling = await svc.import(busyboxTar([{ name: "etc/x", data: "x" }]), {});
    const res = await svc.prune();
    assert.deepEqual(res.ImagesDeleted?.[0], { Deleted: dangling });
    assert.ok(res.SpaceReclaimed > 0);
    assert.deepEqual((await svc.list()).map((i) => i.Id), [tagged]);
    const all = await svc.prune({ filters: { dangling: ["false"] } });
    assert.deepEqual(all.ImagesDeleted?.slice(0, 2), [{ Untagged: "keep:latest" }, { Deleted: tagged }]);
    await assertEmpty(svc);
  });
});

test("save then load into another data root gives the same image; layers are shared once", async () => {
  const tmp = await mkdtemp(join(tmpdir(), "berth-save-"));
  try {
    const archive = join(tmp, "out.tar");
    let id = "";
    let id2 = "";
    await withService(async (svc) => {
      id = await svc.import(busyboxTar(), { repo: "busybox" });
      await svc.tag(id, "localhost:5000/x:1");
      id2 = await svc.commitLayer({ parent: id, layer: Readable.from([await tarOf([{ name: "hello", data: "hi\n" }])]), config: {}, tag: "two:latest" });
      await svc.save(["busybox", "two", "localhost:5000/x:1"], createWriteStream(archive));
    });
    const names: string[] = [];
    const ex = tar.extract();
    ex.on("entry", (h, s, next) => { names.push(h.name); s.resume(); s.on("end", next); });
    await pipeline(createReadStream(archive), ex);
    for (const n of ["oci-layout", "index.json", "manifest.json", "repositories", `blobs/sha256/${id.slice(7)}`]) assert.ok(names.includes(n), n);
    // busybox layer once, hello layer once, 2 configs, 2 manifests
    assert.equal(names.filter((n) => /^blobs\/sha256\/[a-f0-9]{64}$/.test(n)).length, 6);

    await withService(async (svc) => {
      const msgs = await collect(svc.load(createReadStream(archive)));
      assert.deepEqual(msgs.map((m) => m.stream).sort(), ["Loaded image: busybox:latest\n", "Loaded image: localhost:5000/x:1\n", "Loaded image: two:latest\n"]);
      assert.equal((await svc.inspect("busybox")).Id, id);
      assert.equal((await svc.inspect("two")).Id, id2);
      assert.equal((await svc.inspect("localhost:5000/x:1")).Id, id);
      const r = await svc.resolve("two");
      assert.equal((await svc.snapshotter.stat(r.topSnapshot!)).kind, "committed");
      // Only the kept blobs remain: 2 layers + 2 configs (generated manifests are dropped).
      assert.equal((await collect(svc.content.walk())).length, 4);
      // Loading again is idempotent.
      const again = await collect(svc.load(createReadStream(archive)));
      assert.equal(again.length, 3);
      assert.equal((await svc.list()).length, 2);
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test("load of a plain OCI layout with a gzip layer and ref annotations", async () => {
  await withService(async (svc) => {
    const layerChunks: Buffer[] = [];
    for await (const c of busyboxTar()) layerChunks.push(c as Buffer);
    const layer = Buffer.concat(layerChunks);
    const gz = gzipSync(layer);
    const config = Buffer.from(JSON.stringify({
      architecture: "amd64", os: "linux", config: { Cmd: ["sh"] },
      rootfs: { type: "layers", diff_ids: [sha256(layer)] }, history: [{ created_by: "oci" }],
    }));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256(config), size: config.length },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha256(gz), size: gz.length }],
    }));
    const index = JSON.stringify({
      schemaVersion: 2, manifests: [
        { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha256(manifest), size: manifest.length, annotations: { "org.opencontainers.image.ref.name": "oci/thing:v1" } },
      ],
    });
    const hex = (b: Buffer) => sha256(b).slice(7);
    const archive = await tarOf([
      { name: "oci-layout", data: '{"imageLayoutVersion":"1.0.0"}' },
      { name: `blobs/sha256/${hex(gz)}`, data: gz },
      { name: `blobs/sha256/${hex(config)}`, data: config },
      { name: `blobs/sha256/${hex(manifest)}`, data: manifest },
      { name: "index.json", data: index },
    ]);
    const msgs = await collect(svc.load(Readable.from([gzipSync(archive)])));
    assert.deepEqual(msgs, [{ stream: "Loaded image: oci/thing:v1\n" }]);
    const ins = await svc.inspect("oci/thing:v1");
    assert.equal(ins.Id, sha256(config));
    // The layer is kept uncompressed under its diff id; the gzip copy and the manifest are gone.
    const blobs = (await collect(svc.content.walk())).map((b) => b.digest).sort();
    assert.deepEqual(blobs, [sha256(config), sha256(layer)].sort());
  });
});

test("a corrupt blob or a traversal path leaves nothing behind", async () => {
  await withService(async (svc, root) => {
    const layerChunks: Buffer[] = [];
    for await (const c of busyboxTar()) layerChunks.push(c as Buffer);
    const layer = Buffer.concat(layerChunks);
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha256(layer)] } }));
    const manifestJson = JSON.stringify([{ Config: `blobs/sha256/${sha256(config).slice(7)}`, RepoTags: ["bad:1"], Layers: [`blobs/sha256/${sha256(layer).slice(7)}`] }]);
    const corrupt = Buffer.from(layer);
    corrupt[corrupt.length - 2000] = (corrupt[corrupt.length - 2000]! + 1) & 0xff;
    const bad = await tarOf([
      { name: `blobs/sha256/${sha256(config).slice(7)}`, data: config },
      { name: `blobs/sha256/${sha256(layer).slice(7)}`, data: corrupt },
      { name: "manifest.json", data: manifestJson },
    ]);
    await assert.rejects(collect(svc.load(Readable.from([bad]))), (e: unknown) => isKind(e, "data-loss"));
    await assertEmpty(svc);

    // Right bytes under a wrong diff id in the config: the unpack fails after the layer was applied.
    const wrongCfg = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha256("nope")] } }));
    const legacy = await tarOf([
      { name: "abc/layer.tar", data: layer },
      { name: "cfg.json", data: wrongCfg },
      { name: "manifest.json", data: JSON.stringify([{ Config: "cfg.json", RepoTags: ["bad:2"], Layers: ["abc/layer.tar"] }]) },
    ]);
    await assert.rejects(collect(svc.load(Readable.from([legacy]))), /invalid diffID for layer 0/);
    await assertEmpty(svc);

    const evil = await tarOf([{ name: "../evil", data: "x" }, { name: "manifest.json", data: "[]" }]);
    await assert.rejects(collect(svc.load(Readable.from([evil]))), (e: unknown) => isKind(e, "invalid-argument"));
    await assertEmpty(svc);
    assert.deepEqual((await readdir(root)).sort(), ["content", "images", "snapshots"]);

    // A layer tar whose entry escapes the root is refused by import too.
    const escaping = await tarOf([{ name: "../../escape", data: "x" }]);
    await assert.rejects(svc.import(Readable.from([escaping]), { repo: "esc" }));
    await assertEmpty(svc);
  });
});

test("addImage stores an image from config bytes and layer streams, with repo digests", async () => {
  await withService(async (svc) => {
    const layer = await tarOf([{ name: "f", data: "1" }]);
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha256(layer)] }, history: [{}] }));
    const digestRef = `localhost:5000/p@sha256:${"b".repeat(64)}`;
    const id = await svc.addImage({ config, openLayer: async () => Readable.from([layer]), refs: ["localhost:5000/p:1", digestRef] });
    assert.equal(id, sha256(config));
    const ins = await svc.inspect("localhost:5000/p:1");
    assert.deepEqual(ins.RepoDigests, [digestRef]);
    assert.deepEqual(ins.RepoTags, ["localhost:5000/p:1"]);
    assert.equal((await svc.inspect(digestRef)).Id, id);
    // A wrong layer is refused and leaves nothing.
    const other = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha256(layer), sha256("x")] } }));
    await assert.rejects(svc.addImage({ config: other, openLayer: async () => Readable.from([layer]) }), /invalid diffID for layer 1/);
    assert.equal((await collect(svc.snapshotter.walk())).length, 1);
    assert.equal((await collect(svc.content.walk())).length, 2);
    // Removing by tag also drops the digest reference of the same repository.
    assert.deepEqual((await svc.remove("localhost:5000/p:1")).slice(0, 3), [{ Untagged: "localhost:5000/p:1" }, { Untagged: digestRef }, { Deleted: id }]);
    await assertEmpty(svc);
  });
});
