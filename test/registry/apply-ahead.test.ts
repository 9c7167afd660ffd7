/**
 * Pulled gzip layers are applied on their decode workers ahead of their parents, then moved under them.
 * The result must be the tree an in-order apply makes: missing parent dirs take a lower layer's metadata,
 * hard links to a lower layer's file copy it up, whiteouts and opaque dirs take overlay's form.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import { lstat, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { pack } from "tar-stream";
import { serveRegistry, type RunningRegistry } from "../../src/registry/index.js";
import { LayerDecoder, type DecodeOptions, type RemoteSource } from "../../src/distribution/index.js";
import { chainIds } from "../../src/images/index.js";
import { DistributionService } from "../../src/services/distribution-service.js";
import { LocalImagesService } from "../../src/services/images-service.js";
import { readXattrsTree } from "../../src/images/layer/xattrs.js";
import { collect, makeRandomImage, openEngine, quiet, statuses, type Engine } from "./fixtures.js";

type Entry = { name: string; type?: "file" | "directory" | "symlink" | "link"; body?: Buffer; mode?: number; uid?: number; gid?: number; linkname?: string };

function layer(entries: Entry[]): Readable {
  const p = pack();
  for (const e of entries) {
    p.entry({
      name: e.name, type: e.type ?? "file", mode: e.mode ?? (e.type === "directory" ? 0o755 : 0o644), uid: e.uid ?? 0, gid: e.gid ?? 0,
      mtime: new Date(1_600_000_000_000), ...(e.linkname ? { linkname: e.linkname } : {}),
    }, e.body ?? Buffer.alloc(0));
  }
  p.finalize();
  return p as unknown as Readable;
}

/** Every entry of a layer's own dir: type, owner, mode, mtime (a dir made for a missing parent: "now"), link count, content, opaque flag. */
async function describeTree(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(root, r);
      const st = await lstat(p);
      const kind = st.isDirectory() ? "d" : st.isSymbolicLink() ? "l" : st.isCharacterDevice() ? `c${st.rdev}` : "f";
      let extra = "";
      if (st.isFile()) extra = createHash("sha256").update(await readFile(p)).digest("hex").slice(0, 12);
      if (st.isSymbolicLink()) extra = await readlink(p);
      if (st.isDirectory()) extra = (await readXattrsTree(p, { recursive: false })).get(p)?.get("trusted.overlay.opaque")?.toString() ?? "";
      out.push(`${r} ${kind} ${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)} ${st.isSymbolicLink() ? "" : st.mtimeMs > 1.7e12 ? "now" : st.mtimeMs} n${st.isDirectory() ? "" : st.nlink} ${extra}`);
      if (st.isDirectory()) await walk(r);
    }
  }
  await walk("");
  return out;
}

let regRoot: string;
let reg: RunningRegistry;
let a: Engine;

before(async () => {
  regRoot = await mkdtemp(join(tmpdir(), "berth-reg-ahead-"));
  reg = await serveRegistry({ root: regRoot, addr: "127.0.0.1:0", gcIntervalMs: 0, logger: quiet });
  a = await openEngine();
});
after(async () => {
  await a?.close();
  await reg?.close();
  await rm(regRoot, { recursive: true, force: true });
});

test("layers applied ahead of their parents make the same trees as an in-order apply", async () => {
  const base = `${reg.address}/ahead/app:base`;
  const full = `${reg.address}/ahead/app:full`;
  const body = randomBytes(3 << 20);
  const l0 = await a.images.commitLayer({
    parent: null, tag: base, createdBy: "l0", config: {},
    layer: layer([
      { name: "a/", type: "directory", mode: 0o750, uid: 1, gid: 2 },
      { name: "a/f", body: Buffer.from("hello"), uid: 3, gid: 4, mode: 0o640 },
      { name: "d/", type: "directory" }, { name: "d/x", body: Buffer.from("x") },
      { name: "o/", type: "directory" }, { name: "o/old", body: Buffer.from("old") },
      { name: "s", type: "symlink", linkname: "a" }, { name: "big", body },
    ]),
  });
  const l1 = await a.images.commitLayer({
    parent: l0, createdBy: "l1", config: {},
    // No entry for a/ or a/b/: a/ takes layer 0's owner and mode, a/b/ is new. h links to layer 0's a/f.
    layer: layer([
      { name: "a/b/g", body: Buffer.from("g") }, { name: "h", type: "link", linkname: "a/f" },
      { name: "d/.wh.x" }, { name: "o/.wh..wh..opq" }, { name: "o/new", body: Buffer.from("new") },
      { name: "big2", body: randomBytes(2 << 20) },
    ]),
  });
  await a.images.commitLayer({
    parent: l1, tag: full, createdBy: "l2", config: {},
    layer: layer([{ name: "h2", type: "link", linkname: "h" }, { name: "a/b/g2", body: Buffer.from("g2") }, { name: "big3", body: randomBytes(1 << 20) }]),
  });
  await collect(a.dist.push(base));
  await collect(a.dist.push(full));

  const b = await openEngine();
  try {
    const ahead: boolean[] = [];
    class Spy extends LayerDecoder {
      override decodeRemote(src: RemoteSource, opts: Omit<DecodeOptions, "maxInFlight">) {
        ahead.push(opts.extract !== undefined);
        return super.decodeRemote(src, opts);
      }
    }
    const dist = new DistributionService({ images: b.images, content: b.images.content, logger: quiet, config: {}, decoder: new Spy() });
    await collect(dist.pull(base));
    // Layer 0 is present: layers 1 and 2 are applied ahead, layer 1's parents being a committed chain.
    const st = statuses(await collect(dist.pull(full)));
    assert.equal(st.filter((s) => s.endsWith(": Already exists")).length, 1);
    assert.equal(st.filter((s) => s.endsWith(": Pull complete")).length, 2);
    assert.deepEqual(ahead, [true, true, true]);

    const diffIds = (await b.images.imageConfig(full)).config.rootfs.diff_ids;
    assert.deepEqual(diffIds, (await a.images.imageConfig(full)).config.rootfs.diff_ids);
    for (const chain of chainIds(diffIds)) {
      assert.deepEqual(await describeTree(await b.images.snapshotter.dir(chain)), await describeTree(await a.images.snapshotter.dir(chain)));
    }
    const l1Tree = await describeTree(await b.images.snapshotter.dir(chainIds(diffIds)[1]!));
    assert.ok(l1Tree.some((l) => l.startsWith("a d 1:2 750 ")), l1Tree.join("\n"));
    assert.ok(l1Tree.some((l) => l.startsWith("d/x c0 ")), l1Tree.join("\n"));
    assert.ok(l1Tree.some((l) => /^o d .* y$/.test(l)), l1Tree.join("\n"));
    // Nothing left of the detached snapshots the layers were applied into.
    const keys: string[] = [];
    for await (const s of b.images.snapshotter.walk()) keys.push(s.name);
    assert.deepEqual(keys.filter((k) => k.startsWith("extract-")), []);
    assert.deepEqual(await readdir(join(b.dataRoot, "distribution", "downloads")), []);
  } finally {
    await b.close();
  }
});

test("a pull killed (SIGKILL) while layers are applied ahead leaves no layer half made: after a restart the pull completes with the same trees", async () => {
  const ref = `${reg.address}/ahead/crash:v1`;
  await makeRandomImage(a.images, ref, 4, 6 << 20);
  await collect(a.dist.push(ref));
  const dataRoot = await mkdtemp(join(tmpdir(), "berth-ahead-crash-"));
  const script = join(dataRoot, "..", `${dataRoot.split("/").pop()}-pull.mjs`);
  const dist = (p: string) => pathToFileURL(fileURLToPath(new URL(`../../src/${p}`, import.meta.url))).href;
  await writeFile(script, [
    `import { LocalImagesService } from ${JSON.stringify(dist("services/images-service.js"))};`,
    `import { DistributionService } from ${JSON.stringify(dist("services/distribution-service.js"))};`,
    `import { createLogger } from ${JSON.stringify(dist("util/index.js"))};`,
    `const logger = createLogger("error");`,
    `const images = await LocalImagesService.open({ dataRoot: ${JSON.stringify(dataRoot)}, logger });`,
    `const d = new DistributionService({ images, content: images.content, logger, config: {} });`,
    `for await (const m of d.pull(${JSON.stringify(ref)})) console.log(JSON.stringify(m));`,
  ].join("\n"));
  try {
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        // Once one layer is complete the others are mid-apply (and the first may be mid-commit).
        if (/"status":"Download complete"/.test(out) && child.exitCode === null) child.kill("SIGKILL");
      });
      child.once("exit", () => resolve());
      child.once("error", reject);
    });
    assert.doesNotMatch(out, /Status: Downloaded newer image/, "the pull ended before it was killed");
    assert.ok((await readdir(join(dataRoot, "distribution", "downloads"))).some((n) => n.endsWith(".fs")), "killed while layers were being applied");
    const c = await LocalImagesService.open({ dataRoot, logger: quiet });
    try {
      const kinds: string[] = [];
      for await (const s of c.snapshotter.walk()) kinds.push(`${s.kind} ${s.name}`);
      assert.deepEqual(kinds.filter((k) => !k.startsWith("committed ")), [], "half-made snapshots are swept at start");
      const d = new DistributionService({ images: c, content: c.content, logger: quiet, config: {} });
      await collect(d.pull(ref));
      const diffIds = (await c.imageConfig(ref)).config.rootfs.diff_ids;
      for (const chain of chainIds(diffIds)) {
        assert.deepEqual(await describeTree(await c.snapshotter.dir(chain)), await describeTree(await a.images.snapshotter.dir(chain)));
      }
      assert.deepEqual(await readdir(join(dataRoot, "distribution", "downloads")), []);
      for (const img of await c.list({ all: true })) await c.remove(img.Id, { force: true });
      await c.prune();
    } finally {
      await rm(dataRoot, { recursive: true, force: true });
    }
  } finally {
    await rm(script, { force: true });
  }
});
