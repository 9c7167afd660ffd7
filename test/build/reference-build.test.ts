import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildFixture } from "./build-helpers.js";
import { benchReferenceBuild, buildWithService, LATE_CHANGE_REBUILDS } from "./reference-build.js";

const fx = new BuildFixture();
let dir = "";
before(async () => {
  await fx.open();
  dir = await mkdtemp(join(tmpdir(), "berth-refctx-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  await fx.close();
});

test("reference build: cold, cached, and one late COPY source changed", async () => {
  const r = await benchReferenceBuild(dir, buildWithService(fx.builder));
  console.log(`# reference build: cold ${r.cold.ms} ms, cached ${r.cached.ms} ms, one file changed ${r.oneFileChanged.ms} ms (rebuilt steps ${r.oneFileChanged.rebuilt.join(",")})`);
  assert.deepEqual(r.cold.cached, []);
  assert.deepEqual(r.cached.rebuilt, []);
  assert.deepEqual(r.oneFileChanged.rebuilt, LATE_CHANGE_REBUILDS);
  assert.ok(r.exactRebuild);
  assert.equal((await fx.runIn("bench:ref", ["cat", "vendor.count"])).out.trim(), "200");
});
