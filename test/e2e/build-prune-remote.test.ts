import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { createServer, type Server } from "node:http";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, makeBusyboxImage, type TestDaemon } from "../helpers/daemon.js";

let d: TestDaemon;
let ctx: string;
let server: Server;
let base = "";
let tarPath = "";
let tgzPath = "";

before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
  ctx = join(d.root, "prune-ctx");
  await mkdir(ctx);
  await writeFile(join(ctx, "Dockerfile"), ["FROM busybox", "ENV A=1", "COPY a.txt /a.txt", "RUN cat /a.txt > /b.txt", 'CMD ["cat", "/b.txt"]', ""].join("\n"));
  await writeFile(join(ctx, "a.txt"), "one\n");
  const remote = join(d.root, "remote-ctx");
  await mkdir(remote);
  await writeFile(join(remote, "Dockerfile"), ["FROM busybox", "COPY msg.txt /msg.txt", 'CMD ["cat", "/msg.txt"]', ""].join("\n"));
  await writeFile(join(remote, "msg.txt"), "from a remote tar\n");
  tarPath = join(d.root, "remote.tar");
  tgzPath = join(d.root, "remote.tar.gz");
  execFileSync("tar", ["-cf", tarPath, "-C", remote, "."]);
  execFileSync("tar", ["-czf", tgzPath, "-C", remote, "."]);
  server = createServer((req, res) => {
    const file = req.url === "/ctx.tar" ? tarPath : req.url === "/ctx.tar.gz" ? tgzPath : null;
    if (!file) {
      res.writeHead(404);
      res.end("no");
      return;
    }
    res.writeHead(200, { "Content-Type": "application/x-tar" });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
});
after(async () => {
  await new Promise((r) => server?.close(r));
  await d?.stop();
});

const build = (args: string[]) => d.docker(["build", ...args, ctx], { env: { DOCKER_BUILDKIT: "0" } });
const cacheCount = async () => (JSON.parse((await d.api("GET", "/system/df")).body) as { BuildCache: unknown[] }).BuildCache.length;
const deletedIds = (out: string) => out.match(/^[0-9a-f]{64}$/gm) ?? [];

test("builder prune without -a removes only dangling cache (steps no tagged image is built on); -a removes all", async () => {
  assert.equal((await build(["-t", "pr:1"])).code, 0);
  await writeFile(join(ctx, "a.txt"), "two\n");
  const second = await build(["-t", "pr:1"]);
  assert.equal(second.code, 0, second.stderr);
  // ENV is shared; COPY, RUN and CMD of the first build are no longer under any tag.
  assert.equal(await cacheCount(), 7);

  const pruned = await d.docker(["builder", "prune", "-f"]);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.equal(deletedIds(pruned.stdout).length, 3, pruned.stdout);
  assert.equal(await cacheCount(), 4);
  const cached = await build(["-t", "pr:1"]);
  assert.equal(cached.stdout.match(/---> Using cache/g)?.length, 4, "the tagged image's steps are all still cached");
  await writeFile(join(ctx, "a.txt"), "one\n");
  const old = await build([]);
  assert.equal(old.stdout.match(/---> Using cache/g)?.length, 1, "the dangling steps were pruned: only ENV is reused");
  await writeFile(join(ctx, "a.txt"), "two\n");

  // An untagged image a container runs keeps its steps too.
  await writeFile(join(ctx, "a.txt"), "three\n");
  const untagged = await d.berth(["build", "-q", ctx]);
  assert.equal(untagged.code, 0, untagged.stderr);
  const id = untagged.stdout.trim();
  assert.equal((await d.docker(["create", "--name", "keeper", id])).code, 0);
  const before = await cacheCount();
  assert.equal((await d.docker(["builder", "prune", "-f"])).code, 0);
  assert.equal(await cacheCount(), before - 3, "only the first build's steps (one, now untagged) went");
  assert.equal((await d.docker(["rm", "keeper"])).code, 0);

  const all = await d.docker(["builder", "prune", "-af"]);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(await cacheCount(), 0);
});

test("berth build and docker build of a URL of a tar (plain or gzip) served from 127.0.0.1", async () => {
  const b = await d.berth(["build", "--progress=plain", "-t", "remote:1", `${base}/ctx.tar`]);
  assert.equal(b.code, 0, b.stderr + b.stdout);
  assert.equal((await d.docker(["run", "--rm", "remote:1"])).stdout, "from a remote tar\n");
  const g = await d.docker(["build", "-t", "remote:2", `${base}/ctx.tar.gz`], { env: { DOCKER_BUILDKIT: "0" } });
  assert.equal(g.code, 0, g.stderr + g.stdout);
  assert.match(g.stdout, /Using cache/, "the same context from another URL hits the cache");
  assert.equal((await d.docker(["run", "--rm", "remote:2"])).stdout, "from a remote tar\n");

  const missing = await d.berth(["build", "-t", "remote:bad", `${base}/nope.tar`]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /404/);
  assert.equal((await d.api("GET", "/images/remote:bad/json")).status, 404);
  assert.deepEqual(await readdir(join(d.root, "data", "builder", "tmp")).catch(() => []), [], "nothing left in the builder's scratch dir");
});
