import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { serveRegistry } from "./main.js";
import { signToken } from "./jwt.js";
import { createLogger } from "../util/index.js";

const logger = createLogger("error");
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;

test("htpasswd: Basic challenge, good and bad credentials", async () => {
  const root = await mkdtemp(join(tmpdir(), "berth-reg-auth-"));
  const htpasswd = join(root, "htpasswd");
  await writeFile(htpasswd, `alice:${bcrypt.hashSync("s3cret", 5).replace(/^\$2b\$/, "$2y$")}\n`);
  const reg = await serveRegistry({ root: join(root, "data"), addr: "127.0.0.1:0", htpasswd, gcIntervalMs: 0, logger });
  try {
    const base = `http://${reg.address}`;
    const anon = await fetch(`${base}/v2/`);
    assert.equal(anon.status, 401);
    assert.equal(anon.headers.get("www-authenticate"), 'Basic realm="Berth Registry"');
    assert.equal(anon.headers.get("docker-distribution-api-version"), "registry/2.0");
    assert.equal(((await anon.json()) as { errors: { code: string }[] }).errors[0]!.code, "UNAUTHORIZED");
    assert.equal((await fetch(`${base}/v2/`, { headers: { Authorization: basic("alice", "wrong") } })).status, 401);
    assert.equal((await fetch(`${base}/v2/`, { headers: { Authorization: basic("bob", "s3cret") } })).status, 401);
    assert.equal((await fetch(`${base}/v2/`, { headers: { Authorization: basic("alice", "s3cret") } })).status, 200);
    const up = await fetch(`${base}/v2/x/blobs/uploads/`, { method: "POST", headers: { Authorization: basic("alice", "s3cret") } });
    assert.equal(up.status, 202);
  } finally {
    await reg.close();
    await rm(root, { recursive: true, force: true });
  }
});

test("token mode: Bearer challenge with scope, scoped tokens, expired and foreign tokens refused", async () => {
  const root = await mkdtemp(join(tmpdir(), "berth-reg-tok-"));
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const priv = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  const keyFile = join(root, "token.pub");
  await writeFile(keyFile, publicKey.export({ type: "spki", format: "pem" }));
  const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  const reg = await serveRegistry({
    root: join(root, "data"), addr: "127.0.0.1:0", tokenRealm: "http://127.0.0.1:1/token", tokenService: "test-registry",
    tokenIssuer: "test-issuer", tokenKey: keyFile, gcIntervalMs: 0, logger,
  });
  try {
    const base = `http://${reg.address}`;
    const r = await fetch(`${base}/v2/team/app/tags/list`);
    assert.equal(r.status, 401);
    assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="http://127.0.0.1:1/token",service="test-registry",scope="repository:team/app:pull"');
    const tok = (actions: string[], key = priv, extra: { ttlSeconds?: number; aud?: string } = {}) => signToken({
      iss: "test-issuer", sub: "alice", aud: extra.aud ?? "test-registry", access: [{ type: "repository", name: "team/app", actions }],
      ...(extra.ttlSeconds !== undefined ? { ttlSeconds: extra.ttlSeconds } : {}),
    }, key);
    const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
    assert.equal((await fetch(`${base}/v2/`, { headers: bearer(tok(["pull"])) })).status, 200);
    const pullOnly = await fetch(`${base}/v2/team/app/blobs/uploads/`, { method: "POST", headers: bearer(tok(["pull"])) });
    assert.equal(pullOnly.status, 401);
    assert.match(pullOnly.headers.get("www-authenticate")!, /scope="repository:team\/app:pull,push",error="insufficient_scope"/);
    assert.equal((await fetch(`${base}/v2/team/app/blobs/uploads/`, { method: "POST", headers: bearer(tok(["pull", "push"])) })).status, 202);
    assert.equal((await fetch(`${base}/v2/team/app/blobs/uploads/`, { method: "POST", headers: bearer(tok(["*"])) })).status, 202);
    assert.equal((await fetch(`${base}/v2/`, { headers: bearer(tok(["pull"], other)) })).status, 401);
    assert.equal((await fetch(`${base}/v2/`, { headers: bearer(tok(["pull"], priv, { ttlSeconds: -600 })) })).status, 401);
    assert.equal((await fetch(`${base}/v2/`, { headers: bearer(tok(["pull"], priv, { aud: "elsewhere" })) })).status, 401);
    const cat = await fetch(`${base}/v2/_catalog`, { headers: bearer(tok(["pull"])) });
    assert.equal(cat.status, 401);
    assert.match(cat.headers.get("www-authenticate")!, /scope="registry:catalog:\*"/);
  } finally {
    await reg.close();
    await rm(root, { recursive: true, force: true });
  }
});

test("read-only mode refuses writes, deletes are off unless enabled", async () => {
  const root = await mkdtemp(join(tmpdir(), "berth-reg-ro-"));
  const ro = await serveRegistry({ root, addr: "127.0.0.1:0", readOnly: true, gcIntervalMs: 0, logger });
  try {
    const r = await fetch(`http://${ro.address}/v2/x/blobs/uploads/`, { method: "POST" });
    assert.equal(r.status, 405);
    assert.equal(((await r.json()) as { errors: { code: string }[] }).errors[0]!.code, "UNSUPPORTED");
    assert.equal((await fetch(`http://${ro.address}/v2/`)).status, 200);
  } finally {
    await ro.close();
  }
  const rw = await serveRegistry({ root, addr: "127.0.0.1:0", gcIntervalMs: 0, logger });
  try {
    const r = await fetch(`http://${rw.address}/v2/x/manifests/latest`, { method: "DELETE" });
    assert.equal(r.status, 405);
  } finally {
    await rw.close();
    await rm(root, { recursive: true, force: true });
  }
});
