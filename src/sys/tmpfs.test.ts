import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, statfs, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureTmpfs } from "./tmpfs.js";
import { isMountPoint, unmountAll } from "./mount.js";

const TMPFS_MAGIC = 0x01021994;

test("ensureTmpfs mounts a private tmpfs where there is none, and reuses it the second time", { skip: process.getuid?.() !== 0 }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), "berth-tmpfs-"));
  const dir = join(root, "execs");
  t.after(async () => { await unmountAll(dir); await rm(root, { recursive: true, force: true }); });
  const onTmpfs = (await statfs(root)).type === TMPFS_MAGIC;
  assert.equal(await ensureTmpfs(dir, { size: "1m" }), !onTmpfs);
  assert.equal((await statfs(dir)).type, TMPFS_MAGIC);
  await writeFile(join(dir, "f"), "x");
  assert.equal(await ensureTmpfs(dir, { size: "1m" }), !onTmpfs, "a second call keeps the same mount");
  await unmountAll(dir);
  assert.equal(await isMountPoint(dir), false);
});
