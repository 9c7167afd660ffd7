import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, makeBusyboxImage, type TestDaemon } from "../helpers/daemon.js";

let d1: TestDaemon;
let d2: TestDaemon;
let ctx: string;
before(async () => {
  d1 = await startDaemon();
  d2 = await startDaemon();
  await makeBusyboxImage(d1);
  ctx = join(d1.root, "cf-ctx");
  await mkdir(ctx);
  await writeFile(join(ctx, "Dockerfile"), [
    "FROM busybox",
    "ENV GREETING=hi",
    "COPY a.txt /a.txt",
    "RUN echo ran-the-step > /b.txt",
    'CMD ["cat", "/a.txt", "/b.txt"]',
    "",
  ].join("\n"));
  await writeFile(join(ctx, "a.txt"), "hello\n");
});
after(async () => {
  await d1?.stop();
  await d2?.stop();
});

const build = (d: TestDaemon, args: string[]) => d.docker(["build", ...args, ctx], { env: { DOCKER_BUILDKIT: "0" } });
const hits = (out: string) => out.match(/---> Using cache/g)?.length ?? 0;

test("--cache-from: a saved and loaded image seeds the cache on a fresh daemon; without it every step runs", async () => {
  const first = await build(d1, ["-t", "cf:1"]);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  const hist = await d1.docker(["history", "--no-trunc", "--format", "{{.Comment}}", "cf:1"]);
  assert.equal(hist.stdout.match(/^berth\.build\.v1 [0-9a-f]{32}$/gm)?.length, 4, "every step records its key in the history");
  const tarPath = join(d1.root, "cf.tar");
  assert.equal((await d1.docker(["save", "-o", tarPath, "cf:1", "busybox"])).code, 0);
  const loaded = await d2.docker(["load", "-i", tarPath]);
  assert.equal(loaded.code, 0, loaded.stderr);

  const unknown = await build(d2, ["--cache-from", "nosuch:image", "--cache-from", "cf:1", "-t", "cf:2"]);
  assert.equal(unknown.code, 0, unknown.stderr + unknown.stdout);
  assert.match(unknown.stdout, /\[Warning\] cache-from image nosuch:image not found/);
  assert.equal(hits(unknown.stdout), 4, unknown.stdout);
  assert.doesNotMatch(unknown.stdout, /Running in/, "the RUN step did not run");
  assert.equal((await d2.docker(["run", "--rm", "cf:2"])).stdout, "hello\nran-the-step\n");
  const layers = async (d: TestDaemon, ref: string) => (await d.docker(["inspect", "-f", "{{json .RootFS.Layers}}", ref])).stdout;
  assert.equal(await layers(d2, "cf:2"), await layers(d1, "cf:1"), "the same layers, none rebuilt");
  const records = async () => (JSON.parse((await d2.api("GET", "/system/df")).body) as { BuildCache: unknown[] }).BuildCache.length;
  const kept = await records();
  assert.equal(kept, 4, "the restored steps are in the local cache");
  assert.equal((await d2.docker(["builder", "prune", "-f"])).code, 0);
  assert.equal(await records(), kept, "the restored steps of a tagged image are not dangling");

  // Through berth build: a changed COPY source rebuilds from that step on, and says why.
  await writeFile(join(ctx, "a.txt"), "changed\n");
  const partial = await d2.berth(["build", "--progress=plain", "--cache-from", "cf:1", "-t", "cf:3", ctx]);
  assert.equal(partial.code, 0, partial.stderr + partial.stdout);
  assert.match(partial.stdout, /^\[2\/5\] CACHED$/m, partial.stdout);
  assert.match(partial.stdout, /^\[3\/5\] rebuilt: a\.txt changed$/m);
  assert.match(partial.stdout, /2 cached, 3 rebuilt/);
  await writeFile(join(ctx, "a.txt"), "hello\n");

  // Without --cache-from (and with the local records gone) the same build runs every step.
  assert.equal((await d2.docker(["builder", "prune", "-af"])).code, 0);
  const cold = await build(d2, ["-t", "cf:4"]);
  assert.equal(cold.code, 0, cold.stderr);
  assert.equal(hits(cold.stdout), 0, cold.stdout);
  assert.match(cold.stdout, /Running in/);
});

test("--cache-from with a malformed reference is a clear error and tags nothing", async () => {
  const r = await build(d2, ["--cache-from", "Bad:Ref:x", "-t", "cf:bad"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /invalid reference format: cache-from Bad:Ref:x/);
  assert.equal((await d2.api("GET", "/images/cf:bad/json")).status, 404);
});
