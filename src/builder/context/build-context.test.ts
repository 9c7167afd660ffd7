import assert from "node:assert/strict";
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import tar from "tar-stream";
import { receiveContext } from "./build-context.js";

const MTIME = new Date("2020-01-02T03:04:05Z");

/** A context tar sent in small chunks, as a socket delivers a request body. */
async function contextTar(): Promise<Readable> {
  const p = tar.pack();
  const dir = (name: string) => p.entry({ name, type: "directory", mode: 0o755, mtime: MTIME });
  const file = (name: string, body: string, mode = 0o644) => p.entry({ name, mode, mtime: MTIME }, body);
  dir("a/");
  file("a/x.txt", "ax");
  dir("a/deep/");
  file("a/deep/y.txt", "ay");
  dir("b/");
  file("b/z.txt", "bz", 0o600);
  p.entry({ name: "b/hard", type: "link", linkname: "a/x.txt", mtime: MTIME });
  file("top.txt", "top");
  dir("s/");
  p.entry({ name: "s/to-top", type: "symlink", linkname: "../top.txt", mtime: MTIME });
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  const all = Buffer.concat(chunks);
  const small: Buffer[] = [];
  for (let i = 0; i < all.length; i += 700) small.push(all.subarray(i, i + 700));
  return Readable.from(small);
}

test("receive hashes every entry; materialize unpacks only the asked paths, with parents and link targets", async () => {
  const tmp = await mkdtemp(join(tmpdir(), "berth-ctx-"));
  try {
    const ctx = await receiveContext(await contextTar(), { tmpRoot: tmp });
    assert.deepEqual([...ctx.entries.keys()].sort(), ["a", "a/deep", "a/deep/y.txt", "a/x.txt", "b", "b/hard", "b/z.txt", "s", "s/to-top", "top.txt"]);
    assert.equal(ctx.stats.files, 4);
    await ctx.materialize({ paths: ["a/deep"] });
    assert.equal(readFileSync(join(ctx.dir, "a/deep/y.txt"), "utf8"), "ay");
    assert.equal(existsSync(join(ctx.dir, "a/x.txt")), false);
    assert.equal(existsSync(join(ctx.dir, "top.txt")), false);
    await ctx.materialize({ paths: ["b"] });
    assert.equal(readFileSync(join(ctx.dir, "b/hard"), "utf8"), "ax", "the hard link's target came along");
    assert.equal(lstatSync(join(ctx.dir, "b/z.txt")).mode & 0o777, 0o600);
    assert.equal(existsSync(join(ctx.dir, "top.txt")), false);
    await ctx.materialize({ paths: ["s"] });
    assert.equal(readFileSync(join(ctx.dir, "s/to-top"), "utf8"), "top", "with a symbolic link among them, everything is unpacked");
    await ctx.materialize();
    assert.equal(readFileSync(join(ctx.dir, "top.txt"), "utf8"), "top");
    for (const d of ["a", "a/deep", "b"]) assert.equal(lstatSync(join(ctx.dir, d)).mtime.getTime(), MTIME.getTime(), `${d} keeps the context's time`);
    await ctx.dispose();
    assert.deepEqual(await readdir(tmp), []);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test("a body that is not a tar is refused and leaves nothing behind", async () => {
  const tmp = await mkdtemp(join(tmpdir(), "berth-ctx-"));
  try {
    await assert.rejects(receiveContext(Readable.from([Buffer.alloc(600, 0x41)]), { tmpRoot: tmp }), /build context must be a tar archive|invalid tar/);
    assert.deepEqual(await readdir(tmp), []);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test("dispose stops an unpacking under way and removes everything", async () => {
  const tmp = await mkdtemp(join(tmpdir(), "berth-ctx-"));
  try {
    const ctx = await receiveContext(await contextTar(), { tmpRoot: tmp });
    const unpacking = ctx.materialize().catch(() => "stopped");
    await ctx.dispose();
    await unpacking;
    assert.deepEqual(await readdir(tmp), []);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
