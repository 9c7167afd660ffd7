import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CredentialStore, DOCKER_HUB_AUTH_KEY, encodeRegistryAuth, registryAuthFor, serverKey, serverKeyOfImage } from "./credential-store.js";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "berth-creds-"));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

test("server keys follow docker: hub is https://index.docker.io/v1/, others are host[:port]", () => {
  assert.equal(serverKey(undefined), DOCKER_HUB_AUTH_KEY);
  assert.equal(serverKey("docker.io"), DOCKER_HUB_AUTH_KEY);
  assert.equal(serverKey("https://index.docker.io/v1/"), DOCKER_HUB_AUTH_KEY);
  assert.equal(serverKey("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
  assert.equal(serverKeyOfImage("busybox"), DOCKER_HUB_AUTH_KEY);
  assert.equal(serverKeyOfImage("localhost:5000/a/b:1"), "localhost:5000");
});

test("store, get and erase keep other settings in the file, written 0600", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "config.json");
    await writeFile(path, JSON.stringify({ psFormat: "table {{.ID}}", auths: { "other:1": { auth: "eDp5" } } }));
    const s = new CredentialStore(path);
    await s.store("127.0.0.1:5000", { username: "alice", password: "p:w" });
    const cfg = JSON.parse(await readFile(path, "utf8")) as { psFormat: string; auths: Record<string, { auth: string }> };
    assert.equal(cfg.psFormat, "table {{.ID}}");
    assert.equal(Buffer.from(cfg.auths["127.0.0.1:5000"]!.auth, "base64").toString(), "alice:p:w");
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await s.get("127.0.0.1:5000"), { serveraddress: "127.0.0.1:5000", username: "alice", password: "p:w" });
    assert.deepEqual(await s.get("other:1"), { serveraddress: "other:1", username: "x", password: "y" });
    assert.equal(await s.get("nobody:1"), undefined);
    assert.equal(await s.erase("127.0.0.1:5000"), true);
    assert.equal(await s.erase("127.0.0.1:5000"), false);
    assert.equal(await s.get("127.0.0.1:5000"), undefined);
    await s.store("tok:1", { username: "bob", password: "secret", identitytoken: "refresh" });
    const tok = JSON.parse(await readFile(path, "utf8")).auths["tok:1"];
    assert.equal(tok.identitytoken, "refresh");
    assert.equal(Buffer.from(tok.auth, "base64").toString(), "bob:");
  });
});

test("registryAuthFor encodes the stored entry as base64url JSON; nothing stored: undefined", async () => {
  await withDir(async (dir) => {
    const env = { DOCKER_CONFIG: dir };
    assert.equal(await registryAuthFor("127.0.0.1:5000/x:1", env), undefined);
    await new CredentialStore(join(dir, "config.json")).store("127.0.0.1:5000", { username: "a", password: "b?>" });
    const h = await registryAuthFor("127.0.0.1:5000/x:1", env);
    assert.equal(h, encodeRegistryAuth({ serveraddress: "127.0.0.1:5000", username: "a", password: "b?>" }));
    assert.doesNotMatch(h!, /[+/=]/);
    assert.deepEqual(JSON.parse(Buffer.from(h!, "base64url").toString()), { serveraddress: "127.0.0.1:5000", username: "a", password: "b?>" });
  });
});
