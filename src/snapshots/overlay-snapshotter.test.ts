import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OverlaySnapshotter } from "./index.js";
import { snapshotterSuite } from "./snapshotter-suite.js";
import type { Mount } from "./snapshotter.js";

async function makeOverlay() {
  const root = await mkdtemp(join(tmpdir(), "berth-snap-"));
  const sn = await OverlaySnapshotter.open(join(root, "snapshots"));
  return { sn, cleanup: () => rm(root, { recursive: true, force: true }) };
}

snapshotterSuite("overlay", makeOverlay);

function mount(m: Mount, target: string): void {
  const args = ["-t", m.type === "bind" ? "none" : m.type, m.source, target];
  const opts = m.type === "bind" ? ["bind", ...m.options.filter((o) => o !== "rbind")] : m.options;
  if (opts.length) args.push("-o", opts.join(","));
  execFileSync("mount", args, { stdio: "pipe" });
}

test("overlay: a real mount shows layers merged, whiteouts hide lower files, opaque dirs hide lower children", async () => {
  const { sn, cleanup } = await makeOverlay();
  const target = await mkdtemp(join(tmpdir(), "berth-mnt-"));
  let mounted = false;
  try {
    await sn.prepare("k0", null);
    const d0 = await sn.dir("k0");
    await writeFile(join(d0, "keep"), "0");
    await writeFile(join(d0, "gone"), "0");
    await mkdir(join(d0, "opq"));
    await writeFile(join(d0, "opq", "old"), "0");
    await sn.commit("l0", "k0");
    await sn.prepare("k1", "l0");
    const d1 = await sn.dir("k1");
    execFileSync("mknod", [join(d1, "gone"), "c", "0", "0"]);
    await mkdir(join(d1, "opq"));
    execFileSync("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", join(d1, "opq")]);
    await writeFile(join(d1, "opq", "new"), "1");
    await sn.commit("l1", "k1");
    const m = await sn.prepare("c", "l1");
    mount(m[0]!, target);
    mounted = true;
    assert.deepEqual((await readdir(target)).sort(), ["keep", "opq"]);
    assert.deepEqual(await readdir(join(target, "opq")), ["new"]);
    await writeFile(join(target, "added"), "2");
    await rm(join(target, "keep"));
    execFileSync("umount", [target]);
    mounted = false;
    const upper = await sn.dir("c");
    assert.equal(await readFile(join(upper, "added"), "utf8"), "2");
    assert.equal(execFileSync("stat", ["-c", "%F %t:%T", join(upper, "keep")]).toString().trim(), "character special file 0:0");

    const v = await sn.view("v", "l1");
    mount(v[0]!, target);
    mounted = true;
    assert.deepEqual((await readdir(target)).sort(), ["keep", "opq"]);
    await assert.rejects(writeFile(join(target, "x"), "ro"), (e) => (e as NodeJS.ErrnoException).code === "EROFS");
  } finally {
    if (mounted) execFileSync("umount", [target]);
    await rm(target, { recursive: true, force: true });
    await cleanup();
  }
});

test("overlay: open sweeps half-made snapshot dirs and keeps recorded ones", async () => {
  const root = await mkdtemp(join(tmpdir(), "berth-snap-"));
  try {
    const dir = join(root, "snapshots");
    const sn = await OverlaySnapshotter.open(dir);
    await sn.prepare("k", null);
    await mkdir(join(dir, "99", "fs"), { recursive: true });
    const again = await OverlaySnapshotter.open(dir);
    assert.deepEqual((await readdir(dir)).sort(), ["1", "metadata.json"]);
    await again.prepare("k2", null);
    assert.ok((await again.dir("k2")).includes(`${join(dir, "100")}`), "ids are never reused after a sweep");
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
