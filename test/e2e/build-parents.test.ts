import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, makeBusyboxImage, type TestDaemon } from "../helpers/daemon.js";

let d: TestDaemon;
let ctx: string;
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
  ctx = join(d.root, "parents-ctx");
  for (const dir of ["x/y", "x/z/deep", "src/app"]) await mkdir(join(ctx, dir), { recursive: true });
  for (const f of ["x/a.txt", "x/y/b.txt", "x/y/c.md", "x/z/deep/d.txt", "src/app/main.c"]) await writeFile(join(ctx, f), `${f}\n`);
});
after(async () => { await d?.stop(); });

let n = 0;
const build = async (dockerfile: string, tag: string) => {
  const f = join(d.root, `Dockerfile.parents${++n}`);
  await writeFile(f, dockerfile);
  return d.docker(["build", "-f", f, "-t", tag, ctx], { env: { DOCKER_BUILDKIT: "0" } });
};
const find = async (tag: string, dir: string) =>
  (await d.docker(["run", "--rm", tag, "find", dir])).stdout.trim().split("\n").sort();

test("COPY --parents keeps parent directories (from the context root, or below a /./ pivot); ** and globs", async () => {
  const df = [
    "FROM busybox",
    "COPY --parents ./x/a.txt ./x/y/b.txt /no-pivot/",
    "COPY --parents ./x/./y/*.txt /pivot/",
    "COPY --parents x/**/*.txt /star/",
    "COPY --parents src/app /dir",
    "ADD --parents ./x/./z/deep/d.txt /add/",
    "COPY x/y/b.txt /plain/",
    "",
  ].join("\n");
  const r = await build(df, "parents:1");
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual(await find("parents:1", "/no-pivot"), ["/no-pivot", "/no-pivot/x", "/no-pivot/x/a.txt", "/no-pivot/x/y", "/no-pivot/x/y/b.txt"]);
  assert.deepEqual(await find("parents:1", "/pivot"), ["/pivot", "/pivot/y", "/pivot/y/b.txt"]);
  assert.deepEqual(await find("parents:1", "/star"), [
    "/star", "/star/x", "/star/x/a.txt", "/star/x/y", "/star/x/y/b.txt", "/star/x/z", "/star/x/z/deep", "/star/x/z/deep/d.txt",
  ]);
  assert.deepEqual(await find("parents:1", "/dir"), ["/dir", "/dir/src", "/dir/src/app", "/dir/src/app/main.c"]);
  assert.deepEqual(await find("parents:1", "/add"), ["/add", "/add/z", "/add/z/deep", "/add/z/deep/d.txt"]);
  assert.deepEqual(await find("parents:1", "/plain"), ["/plain", "/plain/b.txt"], "without --parents only the file");
  assert.equal((await d.docker(["run", "--rm", "parents:1", "cat", "/pivot/y/b.txt"])).stdout, "x/y/b.txt\n");

  // The pivot is part of the step's identity: same sources, another pivot, another layout (no false cache hit).
  const again = await build(df.replace("./x/./y/*.txt", "./x/y/./*.txt"), "parents:2");
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(await find("parents:2", "/pivot"), ["/pivot", "/pivot/b.txt"]);
  const cached = await build(df, "parents:1");
  assert.equal(cached.stdout.match(/---> Using cache/g)?.length, 6, cached.stdout);
});

test("COPY --parents with a missing source: Docker's error, nothing tagged, no container left", async () => {
  const r = await build("FROM busybox\nCOPY --parents ./x/./nope/*.txt ./x/./missing.txt /out/\n", "parents:bad");
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /file not found in build context or excluded by \.dockerignore: stat \.\/x\/\.\/missing\.txt: file does not exist/);
  assert.equal((await d.api("GET", "/images/parents:bad/json")).status, 404);
  assert.equal((await d.docker(["ps", "-aq"])).stdout.trim(), "");
  assert.deepEqual(await readdir(join(d.root, "data", "builder", "tmp")), [], "no context, mount or scratch dir left");
});
