import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { link, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import tar from "tar-stream";
import { OverlaySnapshotter } from "../../snapshots/index.js";
import { applyLayer, listChanges, packDiff } from "./index.js";
import { streamOf, tarOf } from "./test-tar.js";

async function entriesOf(r: Readable): Promise<{ name: string; type: string; linkname: string | null; pax: Record<string, string> | null; body: string }[]> {
  const ex = tar.extract();
  const out: { name: string; type: string; linkname: string | null; pax: Record<string, string> | null; body: string }[] = [];
  const done = (async () => {
    for await (const e of ex as unknown as AsyncIterable<AsyncIterable<Buffer> & { header: tar.Header & { pax?: Record<string, string> | null } }>) {
      const parts: Buffer[] = [];
      for await (const c of e) parts.push(c);
      out.push({ name: e.header.name, type: e.header.type, linkname: e.header.linkname ?? null, pax: e.header.pax ?? null, body: Buffer.concat(parts).toString() });
    }
  })();
  r.pipe(ex as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

test("packDiff turns a container's overlay changes into an OCI layer that applyLayer reproduces; listChanges agrees", async () => {
  const base = await mkdtemp(join(tmpdir(), "berth-diff-"));
  const mnt = join(base, "mnt");
  await mkdir(mnt);
  let mounted = false;
  try {
    const sn = await OverlaySnapshotter.open(join(base, "snapshots"));
    await sn.prepare("k0", null);
    await applyLayer(streamOf(await tarOf([
      { name: "etc/", type: "directory" },
      { name: "etc/hostname", body: "old" },
      { name: "etc/gone", body: "bye" },
      { name: "var/", type: "directory" },
      { name: "var/cache/", type: "directory" },
      { name: "var/cache/old", body: "o" },
      { name: "usr/", type: "directory" },
    ])), await sn.dir("k0"));
    await sn.commit("l0", "k0");
    const [m] = await sn.prepare("c", "l0");
    execFileSync("mount", ["-t", "overlay", "overlay", mnt, "-o", m!.options.join(",")]);
    mounted = true;
    await writeFile(join(mnt, "etc/hostname"), "new");
    await rm(join(mnt, "etc/gone"));
    await rm(join(mnt, "var/cache"), { recursive: true });
    await mkdir(join(mnt, "var/cache"));
    await writeFile(join(mnt, "var/cache/fresh"), "f");
    await writeFile(join(mnt, "usr/a"), "A");
    await link(join(mnt, "usr/a"), join(mnt, "usr/b"));
    execFileSync("setfattr", ["-n", "user.k", "-v", "v", join(mnt, "usr/a")]);
    execFileSync("umount", [mnt]);
    mounted = false;

    const upper = await sn.dir("c");
    const entries = await entriesOf(packDiff(upper));
    const names = entries.map((e) => `${e.type}:${e.name}${e.linkname ? `->${e.linkname}` : ""}`);
    assert.deepEqual(names, [
      "directory:etc/", "file:etc/.wh.gone", "file:etc/hostname",
      "directory:usr/", "file:usr/a", "link:usr/b->usr/a",
      "directory:var/", "directory:var/cache/", "file:var/cache/.wh..wh..opq", "file:var/cache/fresh",
    ]);
    const a = entries.find((e) => e.name === "usr/a")!;
    assert.equal(a.pax?.["SCHILY.xattr.user.k"], "v");
    assert.ok(!Object.keys(entries.find((e) => e.name === "var/cache/")!.pax ?? {}).some((k) => k.includes("trusted.overlay")));

    const again = join(base, "again");
    await mkdir(again);
    await applyLayer(packDiff(upper), again);
    assert.equal(await readFile(join(again, "etc/hostname"), "utf8"), "new");
    assert.ok((await lstat(join(again, "etc/gone"))).isCharacterDevice());
    assert.equal(execFileSync("getfattr", ["--only-values", "-n", "trusted.overlay.opaque", join(again, "var/cache")]).toString(), "y");
    assert.equal((await stat(join(again, "usr/a"))).ino, (await stat(join(again, "usr/b"))).ino);

    const changes = await listChanges(upper, await sn.parentDirs("c"));
    assert.deepEqual(changes, [
      { Path: "/etc", Kind: 0 }, { Path: "/etc/gone", Kind: 2 }, { Path: "/etc/hostname", Kind: 0 },
      { Path: "/usr", Kind: 0 }, { Path: "/usr/a", Kind: 1 }, { Path: "/usr/b", Kind: 1 },
      { Path: "/var", Kind: 0 }, { Path: "/var/cache", Kind: 2 }, { Path: "/var/cache/fresh", Kind: 1 },
    ]);
    assert.deepEqual(await readdir(mnt), []);
  } finally {
    if (mounted) execFileSync("umount", [mnt]);
    await rm(base, { recursive: true, force: true });
  }
});
