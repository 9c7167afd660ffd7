import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerConfigCredentials } from "./docker-config.js";
import { decodeRegistryAuth } from "./auth-config.js";

test("store, get and erase credentials in config.json's auths (base64 user:password), keeping other keys", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-dcfg-"));
  try {
    const path = join(dir, "config.json");
    await writeFile(path, JSON.stringify({ psFormat: "table {{.ID}}" }));
    const c = new DockerConfigCredentials(path);
    assert.equal(await c.get("localhost:5000"), undefined);
    await c.store("localhost:5000", { username: "bob", password: "p:w" });
    const raw = JSON.parse(await readFile(path, "utf8")) as { auths: Record<string, { auth: string }>; psFormat: string };
    assert.equal(raw.psFormat, "table {{.ID}}");
    assert.equal(raw.auths["localhost:5000"]!.auth, Buffer.from("bob:p:w").toString("base64"));
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const got = await c.get("localhost:5000");
    assert.equal(got?.username, "bob");
    assert.equal(got?.password, "p:w");
    assert.equal(await c.erase("localhost:5000"), true);
    assert.equal(await c.get("localhost:5000"), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("X-Registry-Auth decodes base64url JSON; garbage is ignored", () => {
  const h = Buffer.from(JSON.stringify({ username: "u", password: "p", serveraddress: "localhost:5000" })).toString("base64url");
  assert.deepEqual(decodeRegistryAuth(h), { username: "u", password: "p", serveraddress: "localhost:5000" });
  assert.equal(decodeRegistryAuth("%%%"), undefined);
  assert.equal(decodeRegistryAuth(undefined), undefined);
});
