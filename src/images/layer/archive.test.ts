import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { isKind } from "../../errdefs/index.js";
import { decompressStream, extractArchive, packTree, resolveInRoot } from "./index.js";
import { streamOf, tarOf } from "./test-tar.js";

async function withRoot(fn: (root: string, sentinel: string) => Promise<void>): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), "berth-arch-"));
  const root = join(base, "root");
  const sentinel = join(base, "sentinel");
  await mkdir(join(root, "etc"), { recursive: true });
  await mkdir(sentinel);
  try {
    await fn(root, sentinel);
    assert.deepEqual(await readdir(sentinel), [], "nothing written outside the root");
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

async function names(r: Readable): Promise<string[]> {
  const ex = tar.extract();
  const out: string[] = [];
  const done = (async () => {
    for await (const e of ex as unknown as AsyncIterable<AsyncIterable<Buffer> & { header: tar.Header }>) {
      for await (const _ of e) { /* drain */ }
      out.push(`${e.header.type}:${e.header.name}`);
    }
  })();
  r.pipe(ex as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

test("resolveInRoot keeps symlinks, '..' and absolute links inside the root", () => withRoot(async (root) => {
  await symlink("/", join(root, "up"));
  await symlink("../../../../etc", join(root, "etc2"));
  await symlink("/etc/hosts", join(root, "hostslink"));
  await writeFile(join(root, "etc/hosts"), "h");
  assert.equal(await resolveInRoot(root, "/up/up/etc/hosts"), join(root, "etc/hosts"));
  assert.equal(await resolveInRoot(root, "../../etc2/x"), join(root, "etc/x"));
  assert.equal(await resolveInRoot(root, "/hostslink"), join(root, "etc/hosts"));
  assert.equal(await resolveInRoot(root, "/hostslink", { followLast: false }), join(root, "hostslink"));
  assert.equal(await resolveInRoot(root, "/"), root);
  await symlink("loop", join(root, "loop"));
  await assert.rejects(resolveInRoot(root, "/loop/x"), (e) => isKind(e, "invalid-argument"));
}));

test("packTree archives a tree (export) and a renamed single file (cp), without following symlinks", () => withRoot(async (root) => {
  await writeFile(join(root, "etc/hosts"), "127.0.0.1 localhost\n");
  await symlink("/etc/hosts", join(root, "link"));
  assert.deepEqual(await names(packTree(root)), ["directory:etc/", "file:etc/hosts", "symlink:link"]);
  assert.deepEqual(await names(packTree(join(root, "etc/hosts"))), ["file:hosts"]);
  assert.deepEqual(await names(packTree(join(root, "etc"), { rebaseName: "conf" })), ["directory:conf/", "file:conf/hosts"]);
  assert.deepEqual(await names(packTree(join(root, "link"), { rebaseName: "link" })), ["symlink:link"]);
  const bad = packTree(join(root, "missing"));
  await assert.rejects(readAll(bad));
}));

test("extractArchive resolves paths in the root, honours noOverwriteDirNonDir and owner", () => withRoot(async (root, sentinel) => {
  await symlink("/etc", join(root, "etclink"));
  await symlink(sentinel, join(root, "escape"));
  const t = await tarOf([
    { name: "conf/", type: "directory" },
    { name: "conf/a", body: "A", uid: 7, gid: 8 },
    { name: "conf/h", type: "link", linkname: "conf/a" },
    { name: "dev0", type: "character-device", devmajor: 1, devminor: 3 },
  ]);
  await extractArchive(streamOf(gzipSync(t)), root, "/etclink");
  assert.equal(await readFile(join(root, "etc/conf/a"), "utf8"), "A");
  assert.equal((await stat(join(root, "etc/conf/a"))).uid, 7);
  assert.equal((await stat(join(root, "etc/conf/h"))).ino, (await stat(join(root, "etc/conf/a"))).ino);
  await assert.rejects(lstat(join(root, "etc/dev0")), "no device nodes by default");

  await assert.rejects(extractArchive(streamOf(await tarOf([{ name: "x", body: "in" }])), root, "/escape"),
    (e) => isKind(e, "not-found"), "an absolute host symlink resolves inside the root, where it does not exist");
  await symlink("../../..", join(root, "rel"));
  await extractArchive(streamOf(await tarOf([{ name: "x", body: "in" }])), root, "/rel");
  assert.equal(await readFile(join(root, "x"), "utf8"), "in", "a relative symlink out of the root is clamped to it");
  await assert.rejects(
    extractArchive(streamOf(await tarOf([{ name: "conf", body: "y" }])), root, "/etc", { noOverwriteDirNonDir: true }),
    (e) => isKind(e, "invalid-argument") && /cannot overwrite directory/.test((e as Error).message));
  await extractArchive(streamOf(await tarOf([{ name: "b", body: "B" }])), root, "/etc", { copyUIDGID: true, owner: { uid: 3, gid: 4 } });
  const b = await stat(join(root, "etc/b"));
  assert.deepEqual([b.uid, b.gid], [3, 4]);
  await assert.rejects(extractArchive(streamOf(await tarOf([{ name: "../../sentinel/x", body: "x" }])), root, "/etc"),
    (e) => isKind(e, "invalid-argument"));
  await assert.rejects(extractArchive(streamOf(await tarOf([{ name: "x", body: "x" }])), root, "/nope"), (e) => isKind(e, "not-found"));
  await assert.rejects(extractArchive(streamOf(await tarOf([{ name: "x", body: "x" }])), root, "/etc/b"), (e) => isKind(e, "invalid-argument"));
  void readlink;
}));

test("decompressStream sniffs gzip, zstd and plain, and reports corrupt data", async () => {
  const data = Buffer.from("hello world ".repeat(1000));
  assert.deepEqual(await readAll(decompressStream(Readable.from([data]))), data);
  assert.deepEqual(await readAll(decompressStream(Readable.from([gzipSync(data)]))), data);
  const z = execFileSync("zstd", ["-c", "-q"], { input: data });
  assert.deepEqual(await readAll(decompressStream(Readable.from([z.subarray(0, 2), z.subarray(2)]))), data);
  assert.deepEqual(await readAll(decompressStream(Readable.from([Buffer.from("ab")]))), Buffer.from("ab"));
  assert.deepEqual(await readAll(decompressStream(Readable.from([]))), Buffer.alloc(0));
  const broken = Buffer.concat([gzipSync(data).subarray(0, 30), Buffer.alloc(30, 1)]);
  await assert.rejects(readAll(decompressStream(Readable.from([broken]))), (e) => isKind(e, "invalid-argument"));
  const badZ = Buffer.concat([z.subarray(0, 8), Buffer.alloc(20, 7)]);
  await assert.rejects(readAll(decompressStream(Readable.from([badZ]))), (e) => isKind(e, "invalid-argument"));
});
