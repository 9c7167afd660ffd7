import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { startDaemon, makeBusyboxImage, type TestDaemon } from "../helpers/daemon.js";

let d: TestDaemon;
let ctx: string;
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
  ctx = join(d.root, "cli-ctx");
  await mkdir(join(ctx, "secret-dir"), { recursive: true });
  await writeFile(join(ctx, "Dockerfile"), [
    "FROM busybox",
    "ARG V=1",
    "COPY a.txt /a.txt",
    "RUN echo built $V > /b.txt && echo step-output-here",
    "COPY . /ctx/",
    'CMD ["cat", "/a.txt", "/b.txt"]',
    "",
  ].join("\n"));
  await writeFile(join(ctx, "a.txt"), "hello\n");
  await writeFile(join(ctx, "secret-dir", "key"), "do not send\n");
  await writeFile(join(ctx, "ignored.log"), "noise\n");
  await writeFile(join(ctx, ".dockerignore"), "secret-dir\n*.log\n");
});
after(async () => { await d?.stop(); });

test("berth build: plain progress, rebuild reasons, the image id, tags; the result runs", async () => {
  const cold = await d.berth(["build", "--progress=plain", "-t", "cli:1", ctx]);
  assert.equal(cold.code, 0, cold.stderr + cold.stdout);
  assert.match(cold.stdout, /^\[1\/6\] FROM busybox$/m);
  assert.match(cold.stdout, /^\[4\/6\] \| step-output-here$/m, "RUN output is shown under its step");
  assert.match(cold.stdout, /^\[3\/6\] rebuilt: .+$/m, "every rebuilt step says why");
  assert.match(cold.stdout, /^Built sha256:[0-9a-f]{64}$/m);
  assert.match(cold.stdout, /^Tagged cli:1$/m);
  assert.equal((await d.berth(["run", "--rm", "cli:1"])).stdout, "hello\nbuilt 1\n");
  const ls = await d.berth(["run", "--rm", "cli:1", "ls", "-a", "/ctx"]);
  assert.doesNotMatch(ls.stdout, /secret-dir|ignored\.log/, ".dockerignore'd paths never leave the client");
  assert.match(ls.stdout, /a\.txt/);
  // Step layers are committed in place (no second unpack): their blobs must still match the diff ids.
  const saved = join(d.root, "cli1.tar");
  const save = await d.docker(["save", "-o", saved, "cli:1"]);
  assert.equal(save.code, 0, save.stderr);
  const layers = JSON.parse((await d.docker(["inspect", "-f", "{{json .RootFS.Layers}}", "cli:1"])).stdout) as string[];
  const members = execFileSync("tar", ["-tf", saved]).toString();
  for (const l of layers) assert.ok(members.includes(l.slice(7)), `layer ${l} in the saved archive`);
  const reloaded = await d.docker(["load", "-i", saved]);
  assert.equal(reloaded.code, 0, reloaded.stderr);

  const cached = await d.berth(["build", "--progress=plain", "-t", "cli:1", ctx]);
  assert.equal(cached.code, 0, cached.stderr);
  assert.equal(cached.stdout.match(/ CACHED$/gm)?.length, 6, cached.stdout);
  assert.doesNotMatch(cached.stdout, /rebuilt:/);

  await writeFile(join(ctx, "a.txt"), "changed\n");
  const changed = await d.berth(["build", "--progress=plain", ctx]);
  assert.equal(changed.code, 0, changed.stderr);
  assert.match(changed.stdout, /^\[3\/6\] rebuilt: a\.txt changed$/m, changed.stdout);
  assert.match(changed.stdout, /^\[2\/6\] CACHED$/m);
  await writeFile(join(ctx, "a.txt"), "hello\n");
});

test("berth build -q prints only the id; --explain prints the key inputs of every step", async () => {
  const q = await d.berth(["build", "-q", ctx]);
  assert.equal(q.code, 0, q.stderr);
  assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const ex = await d.berth(["build", "--progress=plain", "--explain", ctx]);
  assert.equal(ex.code, 0, ex.stderr);
  assert.equal(ex.stdout.match(/^\[\d\/6\] key: parent=.* instruction=.*=> [0-9a-f]{12}$/gm)?.length, 5, ex.stdout);
});

test("berth build --progress=tty draws a compact view with timings", async () => {
  const r = await d.berth(["build", "--progress=tty", "--build-arg", "V=tty", ctx]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, / => CACHED \[3\/6\] COPY a\.txt \/a\.txt/);
  assert.match(r.stdout, / => \[4\/6\] RUN echo built .* \d+\.\ds\n/);
  assert.match(r.stdout, /rebuilt: build arg V changed|rebuilt: .*V/);
});

test("berth build - takes a Dockerfile or a context tar on stdin; -f outside the context", async () => {
  const df = await d.berth(["build", "-q", "-"], { input: "FROM busybox\nRUN echo from-stdin > /s\n" });
  assert.equal(df.code, 0, df.stderr);
  const id = df.stdout.trim();
  assert.equal((await d.berth(["run", "--rm", id, "cat", "/s"])).stdout, "from-stdin\n");

  const tarBuf = execFileSync("tar", ["-C", ctx, "-c", "."]);
  const t = await d.berth(["build", "-t", "fromtar:1", "-"], { input: tarBuf });
  assert.equal(t.code, 0, t.stderr + t.stdout);
  assert.equal((await d.berth(["run", "--rm", "fromtar:1"])).stdout, "hello\nbuilt 1\n");

  const outside = join(d.root, "Dockerfile.outside");
  await writeFile(outside, "FROM busybox\nCOPY a.txt /x\n");
  const f = await d.berth(["build", "-q", "-f", outside, ctx]);
  assert.equal(f.code, 0, f.stderr);
  assert.equal((await d.berth(["run", "--rm", f.stdout.trim(), "cat", "/x"])).stdout, "hello\n");
});

test("berth build errors: missing context, missing Dockerfile, failing RUN", async () => {
  const noCtx = await d.berth(["build", join(d.root, "nope")]);
  assert.equal(noCtx.code, 1);
  assert.match(noCtx.stderr, /unable to prepare context: path ".*nope" not found/);
  const noDf = await d.berth(["build", "-f", join(d.root, "missing.Dockerfile"), ctx]);
  assert.equal(noDf.code, 1);
  assert.match(noDf.stderr, /no such file or directory/);
  const bad = await d.berth(["build", "--progress=plain", "-t", "bad:1", "-"], { input: "FROM busybox\nRUN echo failing-now; exit 4\n" });
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /\[2\/2\] \| failing-now/);
  assert.match(bad.stdout, /\[2\/2\] ERROR/);
  assert.match(bad.stderr, /returned a non-zero code: 4/);
  assert.equal((await d.api("GET", "/images/bad:1/json")).status, 404);
  assert.equal((await d.berth(["ps", "-aq"])).stdout.trim(), "");
});

test("system df counts the build cache; builder prune (berth and docker) empties it", async () => {
  const build = await d.berth(["build", "-q", ctx]);
  assert.equal(build.code, 0, build.stderr);
  const df = await d.api("GET", "/system/df");
  const cache = (JSON.parse(df.body) as { BuildCache: { ID: string; Size: number; Type: string }[] }).BuildCache;
  assert.ok(cache.length >= 5, `df lists the cache records: ${cache.length}`);
  assert.ok(cache.some((c) => c.Size > 0), "a step that added a layer has a size");
  const table = await d.docker(["system", "df"]);
  assert.match(table.stdout, new RegExp(`^Build Cache\\s+${cache.length}\\s`, "m"), table.stdout);
  const berthTable = await d.berth(["system", "df"]);
  assert.match(berthTable.stdout, new RegExp(`^Build Cache\\s+${cache.length}\\s`, "m"), berthTable.stdout);

  const old = await d.berth(["builder", "prune", "-f", "--filter", "until=24h"]);
  assert.equal(old.code, 0, old.stderr);
  assert.doesNotMatch(old.stdout, /Deleted build cache objects/, "nothing is a day old");
  const pruned = await d.berth(["builder", "prune", "-af"]);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.match(pruned.stdout, /^Deleted build cache objects:\n([0-9a-f]{64}\n)+\nTotal reclaimed space: /m);
  assert.equal((JSON.parse((await d.api("GET", "/system/df")).body) as { BuildCache: unknown[] }).BuildCache.length, 0);

  assert.equal((await d.berth(["build", "-q", ctx])).code, 0);
  const dp = await d.docker(["builder", "prune", "-af"]);
  assert.equal(dp.code, 0, dp.stderr);
  assert.match(dp.stdout, /Total reclaimed space:/);
  assert.equal((JSON.parse((await d.api("GET", "/system/df")).body) as { BuildCache: unknown[] }).BuildCache.length, 0);
  const rebuilt = await d.berth(["build", "--progress=plain", ctx]);
  assert.match(rebuilt.stdout, /rebuilt: no earlier build/, "after a prune every step is a cold miss");
});
