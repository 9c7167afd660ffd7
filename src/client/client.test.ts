import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { BerthClient } from "./client.js";
import { ConnectionError, ResponseError } from "./errors.js";
import { demux } from "./demux.js";
import { parseHost, resolveHost } from "./host.js";
import { isKind } from "../errdefs/index.js";

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function withServer(handler: Handler, fn: (client: BerthClient, seen: string[]) => Promise<void>, onUpgrade?: (req: http.IncomingMessage, socket: import("node:net").Socket) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "berth-client-"));
  const socketPath = join(dir, "d.sock");
  const seen: string[] = [];
  const server = http.createServer((req, res) => { seen.push(`${req.method} ${req.url}`); handler(req, res); });
  if (onUpgrade) server.on("upgrade", (req, socket) => { seen.push(`${req.method} ${req.url}`); onUpgrade(req, socket as import("node:net").Socket); });
  await new Promise<void>((r) => server.listen(socketPath, r));
  const client = new BerthClient({ host: parseHost(`unix://${socketPath}`) });
  try {
    await fn(client, seen);
  } finally {
    client.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
}

function pingOr(version: string, next: Handler): Handler {
  return (req, res) => {
    if (req.url === "/_ping") { res.setHeader("Api-Version", version); res.end("OK"); return; }
    next(req, res);
  };
}

test("negotiates the API version down to the daemon's and prefixes paths", async () => {
  await withServer(pingOr("1.43", (_req, res) => { res.setHeader("Content-Type", "application/json"); res.end("[]"); }), async (client, seen) => {
    assert.deepEqual(await client.containers.list({ all: true }), []);
    await client.images.list();
    assert.deepEqual(seen, ["GET /_ping", "GET /v1.43/containers/json?all=1", "GET /v1.43/images/json"]);
  });
});

test("caps the version at the client's maximum", async () => {
  await withServer(pingOr("1.99", (_req, res) => res.end("[]")), async (client) => {
    assert.equal(await client.transport.apiVersion(), "1.47");
  });
});

test("maps statuses to error kinds with the daemon's message", async () => {
  const answers: Record<string, [number, string]> = {
    "/v1.47/containers/a/json": [404, '{"message":"No such container: a"}'],
    "/v1.47/containers/b/json": [409, '{"message":"conflict!"}'],
    "/v1.47/containers/c/json": [400, "plain text"],
    "/v1.47/containers/d/json": [500, '{"message":"boom"}'],
    "/v1.47/containers/e/json": [503, ""],
  };
  await withServer(pingOr("1.47", (req, res) => { const [s, b] = answers[req.url!]!; res.statusCode = s; res.end(b); }), async (client) => {
    const cases: [string, string, string][] = [["a", "not-found", "No such container: a"], ["b", "conflict", "conflict!"], ["c", "invalid-argument", "plain text"], ["d", "system", "boom"], ["e", "unavailable", "503 Service Unavailable"]];
    for (const [id, kind, message] of cases) {
      await assert.rejects(client.containers.inspect(id), (err: unknown) => {
        assert.ok(err instanceof ResponseError);
        assert.ok(isKind(err, kind as never), `${id}: ${(err as ResponseError).kind}`);
        assert.equal(err.message, message);
        return true;
      });
    }
  });
});

test("a daemon that is not there gives Docker-like wording", async () => {
  const client = new BerthClient({ host: parseHost("unix:///nonexistent/berth.sock") });
  await assert.rejects(client.system.version(), (err: unknown) => {
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.message, "Cannot connect to the Berth daemon at unix:///nonexistent/berth.sock. Is berthd running?");
    return true;
  });
  client.close();
});

test("host: flag, then BERTH_HOST, then DOCKER_HOST, then default", () => {
  assert.equal(resolveHost("unix:///a", { BERTH_HOST: "unix:///b" }).socketPath, "/a");
  assert.equal(resolveHost(undefined, { BERTH_HOST: "unix:///b", DOCKER_HOST: "unix:///c" }).socketPath, "/b");
  assert.equal(resolveHost(undefined, { DOCKER_HOST: "unix:///c" }).socketPath, "/c");
  assert.equal(resolveHost(undefined, {}).url, "unix:///run/berth/berth.sock");
  assert.throws(() => parseHost("tcp://1.2.3.4:2375"), /only unix/);
});

function frame(kind: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = kind;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

async function collect(s: PassThrough): Promise<string> {
  s.end();
  let out = "";
  for await (const c of s) out += c;
  return out;
}

test("demux splits frames even when headers and payloads are cut anywhere", async () => {
  const all = Buffer.concat([frame(1, "hello "), frame(2, "oops\n"), frame(1, "world\n"), frame(0, "")]);
  for (let cut = 1; cut < all.length; cut += 3) {
    const chunks = [];
    for (let i = 0; i < all.length; i += cut) chunks.push(all.subarray(i, i + cut));
    const out = new PassThrough(), err = new PassThrough();
    await demux(Readable.from(chunks), out, err);
    assert.equal(await collect(out), "hello world\n");
    assert.equal(await collect(err), "oops\n");
  }
});

test("demux reports a system-error frame", async () => {
  await assert.rejects(demux(Readable.from([frame(3, "bad")]), new PassThrough(), new PassThrough()), /bad/);
});

test("attach hijacks the connection with Upgrade: tcp", async () => {
  await withServer(pingOr("1.47", (_req, res) => res.end()), async (client, seen) => {
    const conn = await client.containers.attach("x", { stdin: true });
    assert.equal(conn.contentType, "application/vnd.docker.multiplexed-stream");
    conn.socket.end("ping\n");
    let got = Buffer.alloc(0);
    for await (const c of conn.socket) got = Buffer.concat([got, c as Buffer]);
    const out = new PassThrough(), err = new PassThrough();
    await demux(Readable.from([got]), out, err);
    assert.equal(await collect(out), "echo: ping\n");
    assert.equal(seen[1], "POST /v1.47/containers/x/attach?stream=1&stdin=1&stdout=1&stderr=1");
  }, (req, socket) => {
    assert.equal(req.headers.upgrade, "tcp");
    socket.write("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
    let input = "";
    socket.on("data", (d) => { input += d; });
    socket.on("end", () => socket.end(frame(1, `echo: ${input}`)));
  });
});

test("attach surfaces an error status", async () => {
  await withServer(pingOr("1.47", (_req, res) => res.end()), async (client) => {
    await assert.rejects(client.containers.attach("nope"), (err: unknown) => isKind(err, "not-found") && (err as Error).message === "No such container: nope");
  }, (_req, socket) => {
    const body = '{"message":"No such container: nope"}';
    socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
});

test("JSON-message streams parse line by line", async () => {
  await withServer(pingOr("1.47", (_req, res) => {
    res.write('{"status":"Loading layer","id":"abc"}\r\n{"stream":"Loaded ima');
    res.end('ge: a:b\\n"}\r\n');
  }), async (client) => {
    const msgs = [];
    for await (const m of await client.images.load(Readable.from([Buffer.from("tar")]))) msgs.push(m);
    assert.deepEqual(msgs, [{ status: "Loading layer", id: "abc" }, { stream: "Loaded image: a:b\n" }]);
  });
});
