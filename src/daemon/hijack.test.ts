import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../util/index.js";
import { ApiServer } from "./api-server.js";
import { rawExchange } from "./testing/test-client.js";

let dir: string;
let sock: string;
let server: ApiServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-hijack-"));
  sock = join(dir, "api.sock");
  server = new ApiServer({
    logger: createLogger("error"), serverVersion: "test",
    routes: [{
      // Shaped like exec start: a JSON body on an upgrade request, then a bidirectional stream.
      method: "POST", path: "/exec/:id/start",
      async handle(req) {
        const body = await req.json<{ Tty: boolean }>();
        const { socket, input } = req.hijack("application/vnd.docker.raw-stream");
        socket.write(`tty=${body?.Tty}\n`);
        input!.once("data", (c: Buffer) => socket.end(`echo:${c.toString()}`));
      },
    }],
  });
  await server.listenUnix(sock);
});

after(async () => {
  await server.close(100);
  await rm(dir, { recursive: true, force: true });
});

test("an upgraded request's JSON body is read from the raw connection; later bytes stay for the stream", async () => {
  const body = JSON.stringify({ Tty: true });
  const out = await rawExchange(
    sock,
    `POST /v1.47/exec/x/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}stdin-bytes`,
  );
  const text = out.toString();
  assert.match(text, /^HTTP\/1\.1 101 UPGRADED\r\n/);
  assert.equal(text.slice(text.indexOf("\r\n\r\n") + 4), "tty=true\necho:stdin-bytes");
});
