import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, writeFile, link, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { diskUsage } from "./disk-usage.js";

test("diskUsage counts file blocks once per inode and no directories", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "du-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  assert.equal(await diskUsage(dir), 0);
  await mkdir(join(dir, "a/b"), { recursive: true });
  assert.equal(await diskUsage(dir), 0);
  await writeFile(join(dir, "a/b/f"), Buffer.alloc(10_000, 1));
  const one = await diskUsage(dir);
  assert.ok(one >= 10_000 && one % 512 === 0, String(one));
  await link(join(dir, "a/b/f"), join(dir, "hard"));
  assert.equal(await diskUsage(dir), one);
  assert.equal(await diskUsage(join(dir, "missing")), -1);
});
