import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "node:http";
import { SystemService } from "../services/system-service.js";
import { createLogger } from "../util/index.js";
import { ApiServer } from "./api-server.js";
import { API_VERSION, MIN_API_VERSION } from "./api-version.js";
import { engineRoutes } from "./start-daemon.js";
import { FakeContainersService, FakeImagesService } from "./testing/fake-services.js";
import { call, rawExchange } from "./testing/test-client.js";

const C1 = "1".repeat(64);
let dir: string;
let sock: string;
let server: ApiServer;
let containers: FakeContainersService;
let images: FakeImagesService;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-api-"));
  sock = join(dir, "api.sock");
  containers = new FakeContainersService();
  images = new FakeImagesService();
  const system = new SystemService({ images, containers, dataRoot: dir, runtime: "runc", serverVersion: "0.1.0", apiVersion: API_VERSION, minApiVersion: MIN_API_VERSION });
  server = new ApiServer({ routes: engineRoutes({ images, containers, system }), logger: createLogger("error"), serverVersion: "0.1.0" });
  await server.listenUnix(sock);
});

after(async () => {
  await server.close(100);
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  containers.containers.clear();
  containers.calls = [];
  images.calls = [];
  containers.add({
    id: C1, name: "web", state: "running",
    logs: [
      { stream: "stdout", time: "2026-01-01T00:00:00.000000001Z", data: Buffer.from("out\n") },
      { stream: "stderr", time: "2026-01-01T00:00:01.000000001Z", data: Buffer.from("err\n") },
    ],
  });
});

describe("versions and headers", () => {
  test("ping answers OK with dockerd's headers, also on HEAD and under a version prefix", async () => {
    for (const [method, path] of [["GET", "/_ping"], ["HEAD", "/_ping"], ["GET", "/v1.47/_ping"], ["GET", "/v1.24/_ping"]] as const) {
      const r = await call(sock, method, path);
      assert.equal(r.status, 200, path);
      assert.equal(r.text, method === "HEAD" ? "" : "OK");
      assert.equal(r.headers["api-version"], API_VERSION);
      assert.equal(r.headers["builder-version"], "1");
      assert.equal(r.headers["swarm"], "inactive");
      assert.equal(r.headers["docker-experimental"], "false");
      assert.equal(r.headers["ostype"], "linux");
      assert.equal(r.headers["cache-control"], "no-cache, no-store, must-revalidate");
      assert.equal(r.headers["pragma"], "no-cache");
      assert.match(String(r.headers["server"]), /^Berth\/0\.1\.0 \(linux\)$/);
    }
  });

  test("a version above the maximum or below the minimum is refused with Docker's wording", async () => {
    const hi = await call(sock, "GET", "/v1.99/version");
    assert.equal(hi.status, 400);
    assert.deepEqual(hi.json(), { message: `client version 1.99 is too new. Maximum supported API version is ${API_VERSION}` });
    const lo = await call(sock, "GET", "/v1.12/version");
    assert.equal(lo.status, 400);
    assert.match(lo.json<{ message: string }>().message, /^client version 1\.12 is too old\. Minimum supported API version is 1\.24, please upgrade your client/);
  });

  test("unknown routes are 404 page not found, with the common headers", async () => {
    const r = await call(sock, "GET", "/v1.47/nothing/here");
    assert.equal(r.status, 404);
    assert.deepEqual(r.json(), { message: "page not found" });
    assert.equal(r.headers["api-version"], API_VERSION);
  });

  test("/version and /info have Docker's shape", async () => {
    const v = (await call(sock, "GET", "/v1.47/version")).json<Record<string, unknown>>();
    assert.equal(v.ApiVersion, API_VERSION);
    assert.equal(v.MinAPIVersion, MIN_API_VERSION);
    assert.equal(v.Os, "linux");
    assert.equal((v.Components as { Name: string }[])[0]!.Name, "Engine");
    const info = (await call(sock, "GET", "/info")).json<Record<string, unknown>>();
    assert.equal(info.Containers, 1);
    assert.equal(info.ContainersRunning, 1);
    assert.equal(info.Images, 2);
    assert.equal(info.Driver, "overlay2");
    assert.equal(info.CgroupDriver, "cgroupfs");
    assert.equal((info.Swarm as { LocalNodeState: string }).LocalNodeState, "inactive");
    assert.deepEqual(info.SecurityOptions, ["name=seccomp,profile=builtin"].concat(info.CgroupVersion === "2" ? ["name=cgroupns"] : []));
    const df = (await call(sock, "GET", "/system/df")).json<Record<string, unknown>>();
    assert.deepEqual(Object.keys(df).sort(), ["BuildCache", "Containers", "Images", "LayersSize", "Volumes"]);
  });
});

describe("error mapping", () => {
  test("not-found 404, not-modified 304 with an empty body, conflict 409", async () => {
    const nf = await call(sock, "GET", "/v1.47/containers/nope/json");
    assert.equal(nf.status, 404);
    assert.deepEqual(nf.json(), { message: "No such container: nope" });
    const nm = await call(sock, "POST", `/v1.47/containers/${C1}/start`);
    assert.equal(nm.status, 304);
    assert.equal(nm.body.length, 0);
    const cf = await call(sock, "DELETE", "/v1.47/containers/web");
    assert.equal(cf.status, 409);
    assert.match(cf.json<{ message: string }>().message, /^You cannot remove a running container/);
    const ok = await call(sock, "DELETE", "/v1.47/containers/web?force=1");
    assert.equal(ok.status, 204);
  });

  test("malformed JSON and an empty create body are 400 with a clear message", async () => {
    const bad = await call(sock, "POST", "/v1.47/containers/create", { body: "{nope", headers: { "Content-Type": "application/json" } });
    assert.equal(bad.status, 400);
    assert.match(bad.json<{ message: string }>().message, /^invalid JSON: /);
    const empty = await call(sock, "POST", "/v1.47/containers/create");
    assert.equal(empty.status, 400);
    assert.equal(empty.json<{ message: string }>().message, "config cannot be empty in order to create a container");
    const ct = await call(sock, "POST", "/v1.47/containers/create", { body: "{}", headers: { "Content-Type": "text/plain" } });
    assert.equal(ct.status, 400);
    assert.match(ct.json<{ message: string }>().message, /unsupported Content-Type header \(text\/plain\)/);
  });

  test("a non-engine error is a 500 with its message", async () => {
    const orig = containers.top;
    containers.top = async () => { throw new Error("boom"); };
    try {
      const r = await call(sock, "GET", `/containers/${C1}/top`);
      assert.equal(r.status, 500);
      assert.deepEqual(r.json(), { message: "boom" });
    } finally {
      containers.top = orig;
    }
  });

  test("not-implemented features answer 501", async () => {
    const r = await call(sock, "POST", "/v1.47/swarm/init");
    assert.equal(r.status, 501);
    assert.match(r.json<{ message: string }>().message, /not implemented/);
  });
});

describe("containers", () => {
  test("create returns 201 {Id, Warnings}; a missing image is a 404 'No such image'", async () => {
    const body = JSON.stringify({ Image: "busybox", Cmd: ["true"] });
    const r = await call(sock, "POST", "/v1.47/containers/create?name=box", { body, headers: { "Content-Type": "application/json" } });
    assert.equal(r.status, 201);
    assert.deepEqual(r.json(), { Id: "c".repeat(64), Warnings: [] });
    assert.deepEqual(containers.calls.find((c) => c.op === "create")!.args[1], { name: "box", platform: undefined });
    const miss = await call(sock, "POST", "/containers/create", { body: JSON.stringify({ Image: "missing" }), headers: { "Content-Type": "application/json" } });
    assert.equal(miss.status, 404);
    assert.deepEqual(miss.json(), { message: "No such image: missing:latest" });
  });

  test("list parses filters in both the new and the legacy shape", async () => {
    await call(sock, "GET", `/containers/json?all=1&limit=3&filters=${encodeURIComponent('{"status":["running"],"name":{"web":true}}')}`);
    const opts = containers.calls.find((c) => c.op === "list")!.args[0] as Record<string, unknown>;
    assert.deepEqual(opts, { all: true, limit: 3, size: false, filters: { status: ["running"], name: ["web"] } });
    const bad = await call(sock, "GET", `/containers/json?filters=${encodeURIComponent("{oops")}`);
    assert.equal(bad.status, 400);
    assert.match(bad.json<{ message: string }>().message, /^invalid filter/);
  });

  test("logs without a TTY are multiplexed with 8-byte headers; timestamps prefix each line", async () => {
    const r = await call(sock, "GET", `/v1.47/containers/${C1}/logs?stdout=1&stderr=1&timestamps=1`);
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-type"], "application/vnd.docker.multiplexed-stream");
    const p1 = Buffer.from("2026-01-01T00:00:00.000000001Z out\n");
    const p2 = Buffer.from("2026-01-01T00:00:01.000000001Z err\n");
    const expected = Buffer.concat([
      Buffer.from([1, 0, 0, 0, 0, 0, 0, p1.length]), p1,
      Buffer.from([2, 0, 0, 0, 0, 0, 0, p2.length]), p2,
    ]);
    assert.deepEqual(r.body, expected);
    const opts = containers.calls.find((c) => c.op === "logs")!.args[1] as Record<string, unknown>;
    assert.equal(opts.tail, "all");
    const old = await call(sock, "GET", `/v1.41/containers/${C1}/logs?stdout=1`);
    assert.equal(old.headers["content-type"], "application/vnd.docker.raw-stream");
    const none = await call(sock, "GET", `/containers/${C1}/logs`);
    assert.equal(none.status, 400);
  });

  test("logs of a TTY container are raw bytes", async () => {
    containers.add({ id: "t".repeat(64), name: "tty", tty: true, logs: [{ stream: "stdout", time: "t", data: Buffer.from("hello\r\n") }] });
    const r = await call(sock, "GET", "/containers/tty/logs?stdout=1&tail=5&since=1700000000.5");
    assert.equal(r.headers["content-type"], "application/vnd.docker.raw-stream");
    assert.equal(r.text, "hello\r\n");
    const opts = containers.calls.find((c) => c.op === "logs")!.args[1] as Record<string, unknown>;
    assert.equal(opts.tail, 5);
    assert.equal(opts.since, 1700000000.5);
  });

  test("attach with Upgrade: tcp answers 101 UPGRADED, streams frames, then closes its side", async () => {
    const out = await rawExchange(sock, `POST /v1.47/containers/${C1}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n`);
    const text = out.toString("latin1");
    const headEnd = text.indexOf("\r\n\r\n");
    const head = text.slice(0, headEnd);
    assert.match(head, /^HTTP\/1\.1 101 UPGRADED\r\n/);
    assert.match(head, /\r\nContent-Type: application\/vnd\.docker\.multiplexed-stream\r\n/);
    assert.match(head, /\r\nConnection: Upgrade\r\n/);
    assert.match(head, /\r\nUpgrade: tcp/);
    assert.match(head, /\r\nApi-Version: /);
    const body = out.subarray(headEnd + 4);
    assert.deepEqual(body, Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 4]), Buffer.from("out\n"), Buffer.from([2, 0, 0, 0, 0, 0, 0, 4]), Buffer.from("err\n")]));
    const opts = containers.calls.find((c) => c.op === "attach")!.args[1] as Record<string, unknown>;
    assert.equal(opts.stdout, true);
    assert.equal(opts.stdin, null);
  });

  test("attach passes the upgraded connection as stdin when stdin=1", async () => {
    containers.stdinSeen = [];
    await rawExchange(sock, `POST /containers/${C1}/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    assert.equal(containers.stdinSeen.length, 1);
  });

  test("attach without Upgrade uses the legacy 200 form; a missing container is a plain 404", async () => {
    const out = await rawExchange(sock, `POST /containers/${C1}/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n`);
    assert.match(out.toString("latin1"), /^HTTP\/1\.1 200 OK\r\nContent-Type: application\/vnd\.docker\.multiplexed-stream\r\n/);
    const nf = await call(sock, "POST", "/containers/nope/attach?stream=1&stdout=1", { headers: { Connection: "Upgrade", Upgrade: "tcp" } }).catch((e: Error) => e);
    assert.ok(!(nf instanceof Error), String(nf));
    assert.equal(nf.status, 404);
  });

  test("wait flushes its 200 headers at once and sends the body when the container exits", async () => {
    const headersAt = await new Promise<{ status: number; ct: string | undefined; body: Promise<string> }>((resolve, reject) => {
      const req = request({ socketPath: sock, method: "POST", path: `/v1.47/containers/${C1}/wait?condition=next-exit` }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        const body = new Promise<string>((r) => res.on("end", () => r(text)));
        resolve({ status: res.statusCode ?? 0, ct: res.headers["content-type"], body });
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(headersAt.status, 200);
    assert.equal(headersAt.ct, "application/json");
    assert.equal(containers.waiters.length, 1);
    containers.waiters.shift()!({ StatusCode: 3 });
    assert.deepEqual(JSON.parse(await headersAt.body), { StatusCode: 3, Error: null });
    const bad = await call(sock, "POST", `/containers/${C1}/wait?condition=sometime`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json<{ message: string }>().message, 'invalid condition: "sometime"');
    const nf = await call(sock, "POST", `/containers/nope/wait`);
    assert.equal(nf.status, 404);
  });

  test("wait aborts when the client goes away", async () => {
    const req = request({ socketPath: sock, method: "POST", path: `/containers/${C1}/wait` });
    await new Promise<void>((resolve) => {
      req.on("response", () => resolve());
      req.end();
    });
    req.destroy();
    await new Promise((r) => setTimeout(r, 50));
    // The fake's wait never resolves by itself; the daemon must not hang or crash.
    const ping = await call(sock, "GET", "/_ping");
    assert.equal(ping.status, 200);
    containers.waiters = [];
  });

  test("archive HEAD and GET carry X-Docker-Container-Path-Stat as base64 JSON with a Go FileMode", async () => {
    const head = await call(sock, "HEAD", `/containers/${C1}/archive?path=/etc`);
    assert.equal(head.status, 200);
    const stat = JSON.parse(Buffer.from(String(head.headers["x-docker-container-path-stat"]), "base64").toString());
    assert.deepEqual(stat, { name: "etc", size: 4096, mode: 2 ** 31 + 0o755, mtime: "2026-01-01T00:00:00Z", linkTarget: "" });
    const get = await call(sock, "GET", `/containers/${C1}/archive?path=/etc`);
    assert.equal(get.headers["content-type"], "application/x-tar");
    assert.ok(get.headers["x-docker-container-path-stat"]);
    assert.equal(get.body.length, 512);
    const missing = await call(sock, "GET", `/containers/${C1}/archive?path=/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers["x-docker-container-path-stat"], undefined);
    const nopath = await call(sock, "HEAD", `/containers/${C1}/archive`);
    assert.equal(nopath.status, 400);
  });

  test("archive PUT streams the body to the service", async () => {
    const r = await call(sock, "PUT", `/containers/${C1}/archive?path=/tmp&noOverwriteDirNonDir=true`, { body: Buffer.alloc(2048) });
    assert.equal(r.status, 200);
    const c = containers.calls.find((x) => x.op === "putArchive")!;
    assert.equal(c.args[2], 2048);
    assert.deepEqual({ ...(c.args[3] as object), signal: undefined }, { noOverwriteDirNonDir: true, copyUIDGID: false, signal: undefined });
  });

  test("stop, kill, rename, resize, commit pass their parameters", async () => {
    assert.equal((await call(sock, "POST", `/containers/${C1}/kill?signal=SIGUSR1`)).status, 204);
    assert.equal((await call(sock, "POST", `/containers/${C1}/stop?t=3&signal=SIGINT`)).status, 204);
    assert.deepEqual(containers.calls.find((c) => c.op === "stop")!.args[1], { timeout: 3, signal: "SIGINT" });
    assert.equal((await call(sock, "POST", `/containers/${C1}/stop`)).status, 304);
    const k = await call(sock, "POST", `/containers/${C1}/kill`);
    assert.equal(k.status, 409);
    assert.equal((await call(sock, "POST", `/containers/${C1}/rename?name=api`)).status, 204);
    assert.equal((await call(sock, "POST", `/containers/api/rename`)).status, 400);
    assert.equal((await call(sock, "POST", `/containers/api/resize?h=24&w=80`)).status, 200);
    const cm = await call(sock, "POST", `/commit?container=api&repo=me/img&tag=v1&changes=CMD%20ls&changes=ENV%20A%3Db`, { body: JSON.stringify({ Cmd: ["ls"] }), headers: { "Content-Type": "application/json" } });
    assert.equal(cm.status, 201);
    assert.deepEqual(cm.json(), { Id: "sha256:" + "a".repeat(64) });
    const opts = containers.calls.find((c) => c.op === "commit")!.args[1] as Record<string, unknown>;
    assert.deepEqual(opts.changes, ["CMD ls", "ENV A=b"]);
    assert.equal(opts.pause, true);
  });
});

describe("images", () => {
  test("image names with slashes and ports route to the greedy name", async () => {
    const r = await call(sock, "GET", "/v1.47/images/localhost:5000/a/b/json");
    assert.equal(r.status, 200);
    assert.deepEqual(images.calls.find((c) => c.op === "inspect")!.args, ["localhost:5000/a/b"]);
    const t = await call(sock, "POST", "/images/localhost:5000/a/b/tag?repo=other&tag=v2");
    assert.equal(t.status, 201);
    assert.deepEqual(images.calls.find((c) => c.op === "tag")!.args, ["localhost:5000/a/b", "other", "v2"]);
    const nf = await call(sock, "GET", "/images/nope/json");
    assert.equal(nf.status, 404);
    assert.deepEqual(nf.json(), { message: "No such image: nope:latest" });
    const del = await call(sock, "DELETE", "/images/busybox");
    assert.deepEqual(del.json(), [{ Untagged: "busybox" }]);
  });

  test("pulling streams an error in Docker's shape", async () => {
    const r = await call(sock, "POST", "/v1.47/images/create?fromImage=busybox&tag=latest");
    assert.equal(r.status, 200);
    const msg = JSON.parse(r.text.trim()) as { error: string; errorDetail: { message: string } };
    assert.match(msg.errorDetail.message, /busybox:latest/);
    assert.equal(msg.error, msg.errorDetail.message);
  });

  test("import from the body streams the new image id; an error before output is a plain status", async () => {
    const r = await call(sock, "POST", "/images/create?fromSrc=-&repo=imp&tag=1&changes=CMD%20sh", { body: Buffer.alloc(4096) });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text.trim()), { status: "sha256:" + "d".repeat(64) });
    assert.deepEqual(images.calls.find((c) => c.op === "import")!.args, [4096, { repo: "imp", tag: "1", message: undefined, changes: ["CMD sh"], signal: (images.calls.find((c) => c.op === "import")!.args[1] as { signal: AbortSignal }).signal }]);
    const empty = await call(sock, "POST", "/images/create?fromSrc=-");
    assert.equal(empty.status, 400);
  });

  test("load streams messages and reports failures in-stream", async () => {
    const ok = await call(sock, "POST", "/images/load?quiet=1", { body: Buffer.alloc(100) });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.text.trim().split("\r\n").map((l) => JSON.parse(l)), [{ stream: "Loaded image: busybox:latest\n" }]);
    const bad = await call(sock, "POST", "/images/load", { body: Buffer.alloc(1) });
    assert.equal(bad.status, 200);
    const lines = bad.text.trim().split("\r\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines[1], { errorDetail: { message: "unexpected EOF" }, error: "unexpected EOF" });
  });

  test("save streams a tar; a missing image is a 404", async () => {
    const one = await call(sock, "GET", "/images/busybox/get");
    assert.equal(one.headers["content-type"], "application/x-tar");
    assert.equal(one.body.length, 1024);
    const many = await call(sock, "GET", "/images/get?names=busybox&names=localhost:5000/a/b");
    assert.equal(many.status, 200);
    const nf = await call(sock, "GET", "/images/get?names=nope");
    assert.equal(nf.status, 404);
  });
});

describe("log timestamps", () => {
  test("are RFC3339Nano in UTC with nine digits, like dockerd's", async () => {
    const { formatLogTime } = await import("./stream-framing.js");
    assert.equal(formatLogTime("2026-11-22T16:07:20.620478199+00:00"), "2026-11-22T16:07:20.620478199Z");
    assert.equal(formatLogTime("2026-11-22T16:07:20.6Z"), "2026-11-22T16:07:20.600000000Z");
    assert.equal(formatLogTime("2026-11-22T16:07:20Z"), "2026-11-22T16:07:20.000000000Z");
    assert.equal(formatLogTime("2026-11-22T18:07:20.123456789+02:00"), "2026-11-22T16:07:20.123456789Z");
    assert.equal(formatLogTime("garbage"), "garbage");
  });

  test("docker inspect's probes of networks, volumes and plugins get not-found", async () => {
    for (const p of ["/networks/nosuch", "/volumes/nosuch", "/plugins/nosuch/json"]) {
      assert.equal((await call(sock, "GET", `/v1.47${p}`)).status, 404, p);
    }
  });
});
