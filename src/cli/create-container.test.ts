import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { BerthClient } from "../client/client.js";
import { parseHost } from "../client/host.js";
import { createContainer } from "./create-container.js";
import { Output } from "./output/output.js";
import { parseFlags } from "./flags.js";
import { buildCreateBody, CREATE_FLAGS } from "./container-options.js";

test("a missing image is pulled (docker's message first), then the create is retried", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-cli-"));
  const seen: string[] = [];
  let created = 0;
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url === "/_ping") { res.setHeader("Api-Version", "1.47"); res.end("OK"); return; }
    if (req.url!.startsWith("/v1.47/containers/create")) {
      req.resume();
      if (created++ === 0) { res.statusCode = 404; res.end('{"message":"No such image: busybox:latest"}'); return; }
      res.statusCode = 201; res.end('{"Id":"abc","Warnings":["careful"]}'); return;
    }
    if (req.url!.startsWith("/v1.47/images/create")) {
      res.write('{"status":"Pulling from library/busybox","id":"latest"}\r\n');
      res.write('{"status":"Downloading","progressDetail":{"current":1,"total":2},"id":"aaa"}\r\n');
      res.end('{"status":"Status: Downloaded newer image for busybox:latest"}\r\n');
      return;
    }
    res.statusCode = 500; res.end();
  });
  await new Promise<void>((r) => server.listen(join(dir, "d.sock"), r));
  const client = new BerthClient({ host: parseHost(`unix://${join(dir, "d.sock")}`) });
  const stdout = new PassThrough(), stderr = new PassThrough();
  let errText = "";
  stderr.on("data", (d) => { errText += d; });
  try {
    const p = parseFlags(["busybox", "true"], CREATE_FLAGS, { interspersed: false });
    const id = await createContainer(client, new Output(stdout, stderr), buildCreateBody(p.flags, p.args, {}), { pull: "missing", quiet: false, cidfile: "" });
    assert.equal(id, "abc");
    assert.equal(errText, "Unable to find image 'busybox:latest' locally\nlatest: Pulling from library/busybox\nStatus: Downloaded newer image for busybox:latest\nWARNING: careful\n");
    assert.deepEqual(seen.slice(1).map((s) => s.split("?")[0]), ["POST /v1.47/containers/create", "POST /v1.47/images/create", "POST /v1.47/containers/create"]);
    assert.match(seen[2]!, /fromImage=docker\.io%2Flibrary%2Fbusybox&tag=latest/);
  } finally {
    client.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
});
