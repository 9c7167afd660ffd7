import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { isKind } from "../errdefs/index.js";
import { LayerDecoder, type RemoteSource } from "./layer-decoder.js";

const dir = await mkdtemp(join(tmpdir(), "berth-decoder-"));
after(() => rm(dir, { recursive: true, force: true }));

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const chunked = (b: Buffer, n: number) => Readable.from((function* () { for (let i = 0; i < b.length; i += n) yield Buffer.from(b.subarray(i, i + n)); })());

async function decodeTo(decoder: LayerDecoder, gz: Buffer, digest: string, maxInFlight?: number) {
  const path = join(dir, randomBytes(4).toString("hex"));
  const fh = await open(path, "w+");
  try {
    let seen = 0;
    const r = await decoder.decode(chunked(gz, 100_000), { fd: fh.fd, digest, onWritten: (n) => { seen = n; }, ...(maxInFlight ? { maxInFlight } : {}) });
    return { ...r, seen, bytes: await readFile(path) };
  } finally {
    await fh.close();
  }
}

test("decodes gzip into the file with both digests, reusing its worker for the next layer", async () => {
  const decoder = new LayerDecoder(1);
  for (let i = 0; i < 2; i++) {
    const plain = Buffer.concat([randomBytes(3 << 20), Buffer.alloc(1 << 20, "a")]);
    const gz = gzipSync(plain);
    // A small in-flight window makes the source pause and resume on the worker's acks.
    const r = await decodeTo(decoder, gz, sha(gz), 256 << 10);
    assert.equal(r.diffId, sha(plain));
    assert.equal(r.size, plain.length);
    assert.equal(r.seen, plain.length);
    assert.ok(r.bytes.equals(plain));
  }
});

test("compressed bytes that do not match the digest: data-loss, also when they are not gzip any more", async () => {
  const decoder = new LayerDecoder();
  const gz = gzipSync(randomBytes(1 << 20));
  await assert.rejects(decodeTo(decoder, gz, sha(Buffer.from("other"))), (e) => isKind(e, "data-loss") && /verification failed/.test((e as Error).message));
  const corrupt = Buffer.from(gz);
  corrupt.fill(7, 100, 2000);
  await assert.rejects(decodeTo(decoder, corrupt, sha(gz)), (e) => isKind(e, "data-loss"));
});

test("bytes that match their digest but are not gzip: invalid-argument", async () => {
  const junk = randomBytes(300_000);
  await assert.rejects(decodeTo(new LayerDecoder(), junk, sha(junk)), (e) => isKind(e, "invalid-argument") && /gzip: invalid compressed data/.test((e as Error).message));
});

test("a worker that dies or throws mid-layer fails the decode with a system error", async () => {
  for (const body of ["process.exit(3)", "throw new Error('boom')"]) {
    const file = join(dir, `crash-${randomBytes(3).toString("hex")}.mjs`);
    await writeFile(file, `import { parentPort } from "node:worker_threads";\nparentPort.on("message", (m) => { if (m.t === "chunk") ${body}; });\n`);
    const gz = gzipSync(randomBytes(1 << 20));
    await assert.rejects(decodeTo(new LayerDecoder(1, pathToFileURL(file)), gz, sha(gz)), (e) => isKind(e, "system") && /layer decoder thread/.test((e as Error).message));
  }
});

test("an aborted decode rejects as cancelled and stops its worker", async () => {
  const ac = new AbortController();
  const fh = await open(join(dir, "aborted"), "w+");
  try {
    const gz = gzipSync(randomBytes(4 << 20));
    const src = chunked(gz, 64 << 10);
    const p = new LayerDecoder().decode(src, { fd: fh.fd, digest: sha(gz), signal: ac.signal, onWritten: () => ac.abort() });
    await assert.rejects(p, (e) => isKind(e, "cancelled"));
    assert.ok(src.destroyed);
  } finally {
    await fh.close();
  }
});

test("with extract: the tar is applied into the dir on the worker, the parents' dirs asked for only when an entry needs them", async () => {
  const { pack } = await import("tar-stream");
  const { mkdir, stat } = await import("node:fs/promises");
  const tarOf = async (entries: { name: string; body: string }[]) => {
    const p = pack();
    for (const e of entries) p.entry({ name: e.name, mtime: new Date(0) }, e.body);
    p.finalize();
    const parts: Buffer[] = [];
    for await (const c of p as unknown as AsyncIterable<Buffer>) parts.push(c);
    return Buffer.concat(parts);
  };
  const lower = join(dir, "lower");
  await mkdir(join(lower, "etc"), { mode: 0o711, recursive: true });
  const decoder = new LayerDecoder(1);
  for (const [name, wantsLowers] of [["top", false], ["etc/conf", true]] as const) {
    const plain = await tarOf([{ name, body: "x".repeat(70_000) }]);
    const gz = gzipSync(plain);
    const target = join(dir, `apply-${randomBytes(3).toString("hex")}`);
    await mkdir(target);
    let asked = 0;
    const fh = await open(join(dir, randomBytes(4).toString("hex")), "w+");
    try {
      const r = await decoder.decode(chunked(gz, 10_000), {
        fd: fh.fd, digest: sha(gz), maxInFlight: 32 << 10,
        extract: { dir: target, lowers: async () => { asked++; return [lower]; } },
      });
      assert.equal(r.diffId, sha(plain));
      assert.equal((await readFile(join(target, name))).length, 70_000);
      assert.equal(asked, wantsLowers ? 1 : 0);
      if (wantsLowers) assert.equal((await stat(join(target, "etc"))).mode & 0o777, 0o711);
    } finally {
      await fh.close();
    }
  }
  // An entry escaping the dir: refused as on the main thread, nothing written outside.
  const evil = gzipSync(await tarOf([{ name: "../escaped", body: "x" }]));
  const into = await mkdtemp(join(dir, "evil-"));
  const efh = await open(join(dir, "evil-spool"), "w+");
  try {
    await assert.rejects(decoder.decode(chunked(evil, 1000), { fd: efh.fd, digest: sha(evil), extract: { dir: into, lowers: async () => [] } }),
      (e) => isKind(e, "invalid-argument"));
    await assert.rejects(stat(join(dir, "escaped")));
  } finally {
    await efh.close();
  }
  // gzip of something that is not a tar: invalid-argument; corrupt compressed bytes: data-loss, even when extracting.
  const junk = gzipSync(randomBytes(20_000));
  const fh = await open(join(dir, "junk"), "w+");
  try {
    const extract = { dir: await mkdtemp(join(dir, "x-")), lowers: async () => [] };
    await assert.rejects(decoder.decode(chunked(junk, 1000), { fd: fh.fd, digest: sha(junk), extract }), (e) => isKind(e, "invalid-argument") && /invalid tar stream/.test((e as Error).message));
    const corrupt = Buffer.from(junk);
    corrupt.fill(7, 20, 60);
    await assert.rejects(decoder.decode(chunked(corrupt, 1000), { fd: fh.fd, digest: sha(junk), extract }), (e) => isKind(e, "data-loss"));
  } finally {
    await fh.close();
  }
});

test("decodeRemote: the worker downloads the blob itself and resumes a broken transfer, also from a server that ignores Range", async () => {
  const plain = randomBytes(3 << 20);
  const gz = gzipSync(plain);
  const ranges: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    ranges.push(req.headers.range);
    res.writeHead(200, { "Content-Length": gz.length });
    // The first answer breaks off half way; the second ignores the Range and sends it all again.
    if (ranges.length === 1) res.write(gz.subarray(0, gz.length >> 1), () => setTimeout(() => res.destroy(), 20));
    else res.end(gz);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/blob`;
  const path = join(dir, randomBytes(4).toString("hex"));
  const fh = await open(path, "w+");
  try {
    const broken: number[] = [];
    let total = 0;
    const src: RemoteSource = {
      size: gz.length,
      request: async () => ({ url, headers: {}, rejectUnauthorized: true, idleTimeoutMs: 5000 }),
      refused: async (_o, status) => { throw new Error(`refused ${status}`); },
      broken: async (offset) => { broken.push(offset); },
      onData: (n) => { total = n; },
    };
    const r = await new LayerDecoder(1).decodeRemote(src, { fd: fh.fd, digest: sha(gz) });
    assert.equal(r.diffId, sha(plain));
    assert.deepEqual(await readFile(path), plain);
    assert.equal(broken.length, 1);
    assert.ok(broken[0]! > 0 && broken[0]! < gz.length, `broke at ${broken[0]}`);
    assert.deepEqual(ranges, [undefined, `bytes=${broken[0]}-`]);
    assert.equal(total, gz.length);
  } finally {
    await fh.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test("decodeRemote: an answer that is not the blob goes to the source, whose error fails the decode", async () => {
  const server = createServer((_req, res) => { res.writeHead(404).end(); });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/blob`;
  const fh = await open(join(dir, randomBytes(4).toString("hex")), "w+");
  try {
    const src: RemoteSource = {
      size: 10,
      request: async () => ({ url, headers: {}, rejectUnauthorized: true, idleTimeoutMs: 5000 }),
      refused: async (_o, status) => { throw new Error(`refused ${status}`); },
      broken: async () => { throw new Error("not expected"); },
    };
    await assert.rejects(new LayerDecoder(1).decodeRemote(src, { fd: fh.fd, digest: `sha256:${"0".repeat(64)}` }), /refused 404/);
  } finally {
    await fh.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
