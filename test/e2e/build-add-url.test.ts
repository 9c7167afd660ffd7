import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, makeBusyboxImage, type TestDaemon } from "../helpers/daemon.js";

let d: TestDaemon;
let server: Server;
let base = "";
const BODY = "payload from a loopback server\n";
const SUM = `sha256:${createHash("sha256").update(BODY).digest("hex")}`;
const LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT";

before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
  server = createServer((req, res) => {
    if (req.url === "/files/data.txt") {
      res.writeHead(200, { "Content-Type": "text/plain", "Last-Modified": LAST_MODIFIED });
      res.end(BODY);
    } else if (req.url === "/redirect") {
      res.writeHead(302, { Location: "/files/data.txt" });
      res.end();
    } else {
      res.writeHead(404);
      res.end("no");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
});
after(async () => {
  await new Promise((r) => server?.close(r));
  await d?.stop();
});

async function ctxWith(name: string, dockerfile: string): Promise<string> {
  const dir = join(d.root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "Dockerfile"), dockerfile);
  return dir;
}

async function buildTmpEmpty(): Promise<void> {
  const tmp = join(d.root, "data", "builder", "tmp");
  const left = await readdir(tmp).catch(() => []);
  assert.deepEqual(left, [], "no download or context left in the builder's scratch dir");
}

test("ADD <url> with --checksum (docker build and berth build): 0600, Last-Modified mtime, cached on a rebuild", async () => {
  const dir = await ctxWith("add-ok", `FROM busybox\nADD --checksum=${SUM} ${base}/files/data.txt /got/\nADD ${base}/redirect /named\n`);
  const r = await d.docker(["build", "-t", "addurl:1", dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const out = await d.docker(["run", "--rm", "addurl:1", "sh", "-c", "cat /got/data.txt; stat -c '%a %Y' /got/data.txt; cat /named"]);
  assert.equal(out.stdout, `${BODY}600 ${Date.parse(LAST_MODIFIED) / 1000}\n${BODY}`);
  const again = await d.berth(["build", "--progress=plain", dir]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^\[2\/3\] CACHED$/m, "same content: the step is reused");
  await buildTmpEmpty();
});

test("ADD <url>: a checksum mismatch or a failed fetch ends the build clearly and leaves nothing", async () => {
  const wrong = `sha256:${"0".repeat(64)}`;
  const bad = await ctxWith("add-bad", `FROM busybox\nADD --checksum=${wrong} ${base}/files/data.txt /got\n`);
  const r = await d.docker(["build", "-t", "addbad:1", bad]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`checksum mismatch for ${base}/files/data.txt: expected ${wrong}, got ${SUM}`));
  assert.equal((await d.api("GET", "/images/addbad:1/json")).status, 404);

  const missing = await ctxWith("add-404", `FROM busybox\nADD ${base}/files/nope.txt /x\n`);
  const m = await d.berth(["build", "-t", "addbad:2", missing]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /failed to download .*\/files\/nope\.txt: 404/);
  assert.equal((await d.api("GET", "/images/addbad:2/json")).status, 404);
  assert.equal((await d.docker(["ps", "-aq"])).stdout.trim(), "");
  await buildTmpEmpty();
});

test("RUN --mount=type=secret via berth build --secret: visible to the step, absent from the image and the cache key", async () => {
  const dir = await ctxWith("secret", [
    "FROM busybox",
    "RUN --mount=type=secret,id=tok,required=true cat /run/secrets/tok > /copied-for-test && ls -la /run/secrets/ > /listing",
    "RUN --mount=type=secret,id=tok,env=TOK,target=/tmp/tok sh -c 'echo \"env:$TOK\" > /env-ok'",
    "",
  ].join("\n"));
  const secretFile = join(d.root, "tok.txt");
  await writeFile(secretFile, "s3cr3t");
  const r = await d.berth(["build", "--progress=plain", "-t", "secret:1", "--secret", `id=tok,src=${secretFile}`, dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const out = await d.berth(["run", "--rm", "secret:1", "sh", "-c", "cat /copied-for-test /env-ok; ls /run/secrets 2>&1; ls /tmp"]);
  assert.match(out.stdout, /^s3cr3tenv:s3cr3t\n/);
  assert.doesNotMatch(out.stdout, /tok\n.*tok/s, "the secret files themselves are not in the image");
  const history = await d.berth(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "secret:1"]);
  assert.doesNotMatch(history.stdout, /s3cr3t/);

  const missing = await d.berth(["build", "--no-cache", "-t", "secret:2", dir]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /secret tok: not found/);
});

test("RUN --mount=type=bind,from=stage reads another stage's files; a change there rebuilds the step", async () => {
  const df = (v: string) => [
    "FROM busybox AS tools",
    `RUN mkdir -p /out && echo tool-${v} > /out/tool.txt`,
    "FROM busybox",
    "RUN --mount=type=bind,from=tools,source=/out,target=/mnt/tools cat /mnt/tools/tool.txt > /used.txt",
    "",
  ].join("\n");
  const dir = await ctxWith("bind-from", df("a"));
  const r = await d.docker(["build", "-t", "bindfrom:1", dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const out = await d.docker(["run", "--rm", "bindfrom:1", "sh", "-c", "cat /used.txt; ls /mnt 2>&1 || true"]);
  assert.match(out.stdout, /^tool-a\n/);
  assert.doesNotMatch(out.stdout, /tools/, "the mount point is not left in the image");
  await writeFile(join(dir, "Dockerfile"), df("b"));
  const again = await d.berth(["build", "--progress=plain", "-t", "bindfrom:2", dir]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^\[4\/4\] DONE/m, "the mounting step is rebuilt when the stage changed");
  assert.equal((await d.docker(["run", "--rm", "bindfrom:2", "cat", "/used.txt"])).stdout, "tool-b\n");
  await buildTmpEmpty();
});
