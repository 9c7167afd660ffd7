import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isKind } from "../../errdefs/index.js";
import { sha256 } from "../../util/index.js";
import { applyLayer } from "./index.js";
import { streamOf, tarOf } from "./test-tar.js";

/** A temp dir holding target/ and a sentinel/ beside it that nothing may touch. */
async function withDirs(fn: (d: { target: string; sentinel: string; base: string }) => Promise<void>): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), "berth-layer-"));
  const target = join(base, "target");
  const sentinel = join(base, "sentinel");
  await mkdir(target);
  await mkdir(sentinel);
  try {
    await fn({ target, sentinel, base });
    assert.deepEqual(await readdir(sentinel), [], "nothing written beside the target");
    assert.deepEqual((await readdir(base)).sort(), ["sentinel", "target"]);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

const getfattr = (p: string, name: string) =>
  execFileSync("getfattr", ["--only-values", "-h", "-n", name, p], { stdio: ["ignore", "pipe", "ignore"] });

test("applyLayer writes files, dirs, symlinks, hard links with owners, modes, mtimes and the diff id", () => withDirs(async ({ target }) => {
  const tarBuf = await tarOf([
    { name: "bin/", type: "directory", mode: 0o750, uid: 1, gid: 2 },
    { name: "bin/busybox", body: "BB", mode: 0o4755, uid: 0, gid: 0 },
    { name: "bin/sh", type: "link", linkname: "bin/busybox" },
    { name: "bin/ls", type: "symlink", linkname: "busybox" },
    { name: "./etc/passwd", body: "root:x:0:0::/root:/bin/sh\n", uid: 5, gid: 6 },
    { name: "/abs/file", body: "x" },
    { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
    { name: "run/fifo", type: "fifo", mode: 0o600 },
  ]);
  const r = await applyLayer(streamOf(tarBuf), target);
  assert.equal(r.diffId, sha256(tarBuf));
  assert.equal(r.tarSize, tarBuf.length);
  assert.equal(r.size, 2 + 26 + 1);
  const bb = await stat(join(target, "bin/busybox"));
  assert.equal(bb.mode & 0o7777, 0o4755);
  assert.equal(bb.nlink, 2);
  assert.equal((await stat(join(target, "bin/sh"))).ino, bb.ino);
  assert.equal(bb.mtimeMs, 1_600_000_000_000);
  const bin = await stat(join(target, "bin"));
  assert.equal(bin.mode & 0o777, 0o750);
  assert.equal(bin.uid, 1);
  assert.equal(bin.mtimeMs, 1_600_000_000_000, "directory mtimes survive their children");
  assert.equal(await readlink(join(target, "bin/ls")), "busybox");
  const pw = await stat(join(target, "etc/passwd"));
  assert.deepEqual([pw.uid, pw.gid], [5, 6]);
  assert.equal(await readFile(join(target, "abs/file"), "utf8"), "x");
  const dn = await lstat(join(target, "dev/null"));
  assert.ok(dn.isCharacterDevice());
  assert.equal(dn.rdev, 0x103);
  assert.equal(dn.mode & 0o777, 0o666);
  assert.ok((await lstat(join(target, "run/fifo"))).isFIFO());
}));

test("applyLayer converts whiteouts and opaque dirs to overlay form, keeps xattrs byte-exact", () => withDirs(async ({ target }) => {
  const cap = Buffer.from("0100000200200000000000000000000000000000", "hex");
  const r = await applyLayer(streamOf(await tarOf([
    { name: "etc/", type: "directory" },
    { name: "etc/.wh.gone", body: "" },
    { name: "var/", type: "directory" },
    { name: "var/cache/", type: "directory" },
    { name: "var/cache/.wh..wh..opq", body: "" },
    { name: "var/cache/new", body: "n" },
    { name: "usr/bin/ping", body: "p", pax: { "SCHILY.xattr.security.capability": cap.toString("latin1"), "SCHILY.xattr.user.note": Buffer.from("héllo").toString("latin1") } },
    { name: "evil", body: "e", pax: { "SCHILY.xattr.trusted.overlay.opaque": "y" } },
  ])), target, { allowDevices: false });
  assert.ok(r.diffId.startsWith("sha256:"));
  const wh = await lstat(join(target, "etc/gone"));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0, "whiteout is a 0/0 char device even without allowDevices");
  assert.equal(getfattr(join(target, "var/cache"), "trusted.overlay.opaque").toString(), "y");
  assert.equal(await readFile(join(target, "var/cache/new"), "utf8"), "n");
  assert.deepEqual(getfattr(join(target, "usr/bin/ping"), "security.capability"), cap);
  assert.equal(getfattr(join(target, "usr/bin/ping"), "user.note").toString(), "héllo");
  assert.throws(() => getfattr(join(target, "evil"), "trusted.overlay.opaque"), "layers cannot set overlay attributes");
}));

test("applyLayer copies a lower layer's file up for a hard link to it, with its parents' metadata", () => withDirs(async ({ base, target }) => {
  const lower = join(base, "lower");
  await mkdir(join(lower, "usr/lib"), { recursive: true, mode: 0o711 });
  await writeFile(join(lower, "usr/lib/libc.so"), "LIBC", { mode: 0o555 });
  try {
    await applyLayer(streamOf(await tarOf([{ name: "lib/libc.so.6", type: "link", linkname: "usr/lib/libc.so" }])), target, { lowerDirs: [lower] });
    const a = await stat(join(target, "usr/lib/libc.so"));
    assert.equal(a.ino, (await stat(join(target, "lib/libc.so.6"))).ino);
    assert.equal(a.mode & 0o777, 0o555);
    assert.equal((await stat(join(target, "usr/lib"))).mode & 0o777, 0o711);
    assert.equal(await readFile(join(target, "lib/libc.so.6"), "utf8"), "LIBC");
    await assert.rejects(
      applyLayer(streamOf(await tarOf([{ name: "x", type: "link", linkname: "no/such" }])), target, { lowerDirs: [lower] }),
      (e) => isKind(e, "invalid-argument") && /not found/.test((e as Error).message));
  } finally {
    await rm(lower, { recursive: true, force: true });
  }
}));

const attacks: [string, Parameters<typeof tarOf>[0], RegExp][] = [
  ["../escape", [{ name: "../sentinel/escape", body: "x" }], /outside of the extraction root/],
  ["a/../../escape", [{ name: "a/../../sentinel/x", body: "x" }], /outside/],
  ["symlink to / then a write through it", [
    { name: "a", type: "symlink", linkname: "/" },
    { name: "a/etc/passwd", body: "pwned" },
  ], /symbolic link/],
  ["symlink to outside then a write through it", [
    { name: "s", type: "symlink", linkname: "../sentinel" },
    { name: "s/file", body: "pwned" },
  ], /symbolic link/],
  ["relative symlink chain out", [
    { name: "d/", type: "directory" },
    { name: "d/up", type: "symlink", linkname: ".." },
    { name: "d/up/up", type: "symlink", linkname: "../sentinel" },
    { name: "d/up/up/x", body: "pwned" },
  ], /symbolic link/],
  ["hard link to /etc/shadow", [{ name: "shadow", type: "link", linkname: "/etc/shadow" }], /not found/],
  ["hard link to ../x", [{ name: "x", type: "link", linkname: "../sentinel/x" }], /outside/],
  ["hard link through a symlink", [
    { name: "l", type: "symlink", linkname: "/etc" },
    { name: "h", type: "link", linkname: "l/passwd" },
  ], /symbolic link/],
  ["whiteout through a symlink", [
    { name: "w", type: "symlink", linkname: "../sentinel" },
    { name: "w/.wh.x", body: "" },
  ], /symbolic link/],
];

for (const [label, entries, re] of attacks) {
  test(`applyLayer refuses ${label}`, () => withDirs(async ({ target, sentinel }) => {
    await writeFile(join(sentinel, "..", "probe"), "").then(() => rm(join(sentinel, "..", "probe")));
    await assert.rejects(applyLayer(streamOf(await tarOf(entries)), target),
      (e) => isKind(e, "invalid-argument") && re.test((e as Error).message));
  }));
}

test("applyLayer replaces a symlink entry by a later file without following it", () => withDirs(async ({ target, sentinel }) => {
  await symlink(join(sentinel, "victim"), join(target, "f"));
  await applyLayer(streamOf(await tarOf([{ name: "f", body: "safe" }])), target);
  assert.equal(await readFile(join(target, "f"), "utf8"), "safe");
}));

test("applyLayer honours an aborted signal", () => withDirs(async ({ target }) => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(applyLayer(streamOf(await tarOf([{ name: "a", body: "x" }])), target, { signal: ac.signal }),
    (e) => isKind(e, "cancelled"));
}));

test("applyLayer's diff id covers a GNU tar's whole padded stream", () => withDirs(async ({ base, target }) => {
  const src = join(base, "sentinel");
  const tarFile = join(tmpdir(), `berth-gnu-${process.pid}.tar`);
  try {
    await writeFile(join(base, "f"), "data");
    execFileSync("tar", ["-cf", tarFile, "-C", base, "f"]);
    await rm(join(base, "f"));
    const buf = await readFile(tarFile);
    assert.equal(buf.length, 10240);
    const r = await applyLayer(streamOf(buf), target);
    assert.equal(r.diffId, sha256(buf));
    assert.equal(await readFile(join(target, "f"), "utf8"), "data");
    void src;
  } finally {
    await rm(tarFile, { force: true });
  }
}));

test("applyLayer reports a truncated or garbage tar as invalid-argument", () => withDirs(async ({ target }) => {
  const t = await tarOf([{ name: "big", body: Buffer.alloc(100_000, 1) }]);
  await assert.rejects(applyLayer(streamOf(t.subarray(0, 5000)), target),
    (e) => isKind(e, "invalid-argument") && /invalid tar stream/.test((e as Error).message));
  await assert.rejects(applyLayer(streamOf(Buffer.alloc(1024, 0x41)), target), (e) => isKind(e, "invalid-argument"));
}));

test("applyLayer stops when the signal aborts mid-stream", () => withDirs(async ({ target }) => {
  const ac = new AbortController();
  const { Readable } = await import("node:stream");
  const t = await tarOf([{ name: "a", body: Buffer.alloc(64 << 10, 1) }, { name: "b", body: "b" }]);
  const src = new Readable({ read() {} });
  src.push(t.subarray(0, 4096));
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(applyLayer(src, target, { signal: ac.signal }), (e) => isKind(e, "cancelled"));
  assert.ok(src.destroyed);
}));
