import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, makeBusyboxImage, type TestDaemon } from "../helpers/daemon.js";

let d: TestDaemon;
let ctx: string;
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
  ctx = join(d.root, "ctx");
  await mkdir(ctx);
  await writeFile(join(ctx, "Dockerfile"), [
    "FROM busybox",
    "ARG V=1",
    "COPY a.txt /a.txt",
    "RUN echo built $V > /b.txt",
    'CMD ["cat", "/a.txt", "/b.txt"]',
    "",
  ].join("\n"));
  await writeFile(join(ctx, "a.txt"), "hello\n");
});
after(async () => { await d?.stop(); });

const build = (args: string[]) => d.docker(["build", ...args, ctx], { env: { DOCKER_BUILDKIT: "0" } });

test("docker build (classic builder) against berthd: build, run, cache, explain", async () => {
  const cold = await build(["-t", "built:1"]);
  assert.equal(cold.code, 0, cold.stderr + cold.stdout);
  assert.match(cold.stdout, /Step 1\/5 : FROM busybox/);
  assert.match(cold.stdout, /Successfully tagged built:1/);
  assert.equal((await d.docker(["run", "--rm", "built:1"])).stdout, "hello\nbuilt 1\n");

  const cached = await build(["-t", "built:1"]);
  assert.equal(cached.code, 0);
  assert.equal(cached.stdout.match(/---> Using cache/g)?.length, 4, cached.stdout);
  assert.doesNotMatch(cached.stdout, /Cache miss/);

  await writeFile(join(ctx, "a.txt"), "changed\n");
  const changed = await build(["-t", "built:2"]);
  assert.equal(changed.code, 0);
  assert.equal(changed.stdout.match(/---> Using cache/g)?.length, 1, "only ARG before the COPY is reused");
  assert.match(changed.stdout, /Cache miss: COPY a\.txt \/a\.txt: a\.txt changed/);
  assert.equal((await d.docker(["run", "--rm", "built:2"])).stdout, "changed\nbuilt 1\n");

  const hist = await d.docker(["history", "--format", "{{.CreatedBy}}", "built:2"]);
  assert.match(hist.stdout, /RUN \|1 V=1 \/bin\/sh -c echo built \$V > \/b\.txt|echo built/);
});

test("a failing RUN ends the build with its code and tags nothing", async () => {
  await writeFile(join(ctx, "Dockerfile.bad"), "FROM busybox\nRUN echo about to fail; exit 3\n");
  const r = await d.docker(["build", "-f", join(ctx, "Dockerfile.bad"), "-t", "never:1", ctx], { env: { DOCKER_BUILDKIT: "0" } });
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /about to fail/);
  assert.match(r.stderr, /returned a non-zero code: 3/);
  assert.equal((await d.api("GET", "/images/never:1/json")).status, 404);
  assert.equal((await d.docker(["ps", "-aq"])).stdout.trim(), "", "no build container left");
});

test("docker build with the Dockerfile on stdin (-f -) or outside the context: the CLI's unterminated context tar is accepted", async () => {
  const viaStdin = await d.docker(["build", "-f", "-", "-t", "stdin-df:1", ctx], {
    env: { DOCKER_BUILDKIT: "0" }, input: "FROM busybox\nCOPY a.txt /from-stdin.txt\n",
  });
  assert.equal(viaStdin.code, 0, viaStdin.stderr + viaStdin.stdout);
  assert.match((await d.docker(["run", "--rm", "stdin-df:1", "ls", "/"])).stdout, /from-stdin\.txt/);
  const outside = join(d.root, "Dockerfile.outside");
  await writeFile(outside, "FROM busybox\nCOPY a.txt /from-outside.txt\n");
  const r = await d.docker(["build", "-f", outside, "-t", "outside-df:1", ctx], { env: { DOCKER_BUILDKIT: "0" } });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match((await d.docker(["run", "--rm", "outside-df:1", "ls", "/"])).stdout, /from-outside\.txt/);
});
