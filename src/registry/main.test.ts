import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serveRegistry } from "./main.js";
import { createLogger } from "../util/index.js";

const logger = createLogger("error");

test("registryMain serves with flags and stops on SIGTERM", async () => {
  const root = await mkdtemp(join(tmpdir(), "berth-reg-main-"));
  const mainJs = fileURLToPath(new URL("./main.js", import.meta.url));
  const child = spawn(process.execPath, ["-e", `import(${JSON.stringify(mainJs)}).then((m) => m.registryMain(process.argv.slice(1)))`,
    "serve", "--root", root, "--addr", "127.0.0.1:0", "--read-only"], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const address = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once("exit", (code) => reject(new Error(`exited ${code}`)));
    });
    assert.equal((await fetch(`http://${address}/v2/`)).status, 200);
    assert.equal((await fetch(`http://${address}/v2/x/blobs/uploads/`, { method: "POST" })).status, 405);
    const exited = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    await rm(root, { recursive: true, force: true });
  }
});

test("an upload in progress survives a registry restart and completes", async () => {
  const root = await mkdtemp(join(tmpdir(), "berth-reg-restart-"));
  const data = randomBytes(200_000);
  const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
  let reg = await serveRegistry({ root, addr: "127.0.0.1:0", gcIntervalMs: 0, logger });
  try {
    const loc = (await fetch(`http://${reg.address}/v2/r/blobs/uploads/`, { method: "POST" })).headers.get("location")!;
    assert.equal((await fetch(`http://${reg.address}${loc}`, { method: "PATCH", body: data.subarray(0, 100_000), headers: { "Content-Range": "0-99999" } })).status, 202);
    await reg.close();
    reg = await serveRegistry({ root, addr: "127.0.0.1:0", gcIntervalMs: 0, logger });
    const st = await fetch(`http://${reg.address}${loc}`);
    assert.equal(st.headers.get("range"), "0-99999");
    assert.equal((await fetch(`http://${reg.address}${loc}`, { method: "PATCH", body: data.subarray(100_000), headers: { "Content-Range": "100000-199999" } })).status, 202);
    assert.equal((await fetch(`http://${reg.address}${loc}?digest=${digest}`, { method: "PUT" })).status, 201);
    const got = Buffer.from(await (await fetch(`http://${reg.address}/v2/r/blobs/${digest}`)).arrayBuffer());
    assert.ok(got.equals(data));
  } finally {
    await reg.close();
    await rm(root, { recursive: true, force: true });
  }
});
