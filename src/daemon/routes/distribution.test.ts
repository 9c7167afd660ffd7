import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { notFound, unauthorized } from "../../errdefs/index.js";
import type { AuthConfig, DistributionService } from "../../services/distribution-service.js";
import { SystemService } from "../../services/system-service.js";
import type { JsonMessage } from "../../spec/engine.js";
import { createLogger } from "../../util/index.js";
import { ApiServer } from "../api-server.js";
import { API_VERSION, MIN_API_VERSION } from "../api-version.js";
import { engineRoutes } from "../start-daemon.js";
import { FakeContainersService, FakeImagesService } from "../testing/fake-services.js";
import { call } from "../testing/test-client.js";

interface Call { op: string; ref?: string; opts?: Record<string, unknown>; auth?: AuthConfig }

/** Scripted pulls and pushes: "fail-early" throws before any message, "fail-late" after one. */
class FakeDistribution {
  calls: Call[] = [];
  async *#script(ref: string): AsyncIterable<JsonMessage> {
    if (ref.includes("fail-early")) throw notFound(`manifest for ${ref} not found: manifest unknown: manifest unknown`);
    yield { status: "Pulling from x", id: "1" };
    if (ref.includes("fail-late")) throw new Error("connection reset");
    yield { status: "Status: Downloaded newer image for x:1" };
  }
  pull(ref: string, opts: Record<string, unknown>): AsyncIterable<JsonMessage> {
    this.calls.push({ op: "pull", ref, opts });
    return this.#script(ref);
  }
  push(ref: string, opts: Record<string, unknown>): AsyncIterable<JsonMessage> {
    this.calls.push({ op: "push", ref, opts });
    return this.#script(ref);
  }
  async login(auth: AuthConfig): Promise<{ Status: string; IdentityToken?: string }> {
    this.calls.push({ op: "login", auth });
    if (auth.password !== "right") throw unauthorized(`login attempt to http://${auth.serveraddress}/v2/ failed with status: 401 Unauthorized`);
    return { Status: "Login Succeeded", IdentityToken: "" };
  }
}

let dir: string;
let sock: string;
let server: ApiServer;
const dist = new FakeDistribution();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-dist-routes-"));
  sock = join(dir, "api.sock");
  const images = new FakeImagesService();
  const containers = new FakeContainersService();
  const system = new SystemService({ images, containers, dataRoot: dir, runtime: "runc", serverVersion: "0.1.0", apiVersion: API_VERSION, minApiVersion: MIN_API_VERSION });
  const distribution = dist as unknown as DistributionService;
  server = new ApiServer({ routes: engineRoutes({ images, containers, system, distribution }), logger: createLogger("error"), serverVersion: "0.1.0" });
  await server.listenUnix(sock);
});

after(async () => {
  await server.close(100);
  await rm(dir, { recursive: true, force: true });
});

const lines = (text: string) => text.trim().split("\r\n").map((l) => JSON.parse(l) as JsonMessage);

test("pull streams the service's messages with the decoded X-Registry-Auth, platform and a signal", async () => {
  const auth = Buffer.from(JSON.stringify({ username: "u", password: "p", serveraddress: "r:5000" })).toString("base64url");
  const r = await call(sock, "POST", "/v1.47/images/create?fromImage=r%3A5000%2Fx&tag=1&platform=linux%2Famd64", { headers: { "X-Registry-Auth": auth } });
  assert.equal(r.status, 200);
  assert.deepEqual(lines(r.text).map((m) => m.status), ["Pulling from x", "Status: Downloaded newer image for x:1"]);
  const c = dist.calls.at(-1)!;
  assert.equal(c.ref, "r:5000/x:1");
  assert.equal(c.opts!.platform, "linux/amd64");
  assert.equal(c.opts!.allTags, false);
  assert.deepEqual(c.opts!.auth, { username: "u", password: "p", serveraddress: "r:5000" });
  assert.ok(c.opts!.signal instanceof AbortSignal);
});

test("pull: a digest tag makes name@digest; no tag at all pulls every tag", async () => {
  const digest = "sha256:" + "a".repeat(64);
  await call(sock, "POST", `/images/create?fromImage=x&tag=${digest}`);
  assert.equal(dist.calls.at(-1)!.ref, `x@${digest}`);
  await call(sock, "POST", "/images/create?fromImage=x");
  assert.equal(dist.calls.at(-1)!.opts!.allTags, true);
  await call(sock, "POST", "/images/create?fromImage=localhost%3A5000%2Fx%3A2");
  assert.equal(dist.calls.at(-1)!.opts!.allTags, false);
});

test("a failure before the first message is a plain HTTP error; after it, an errorDetail line", async () => {
  const early = await call(sock, "POST", "/images/create?fromImage=fail-early&tag=1");
  assert.equal(early.status, 404);
  assert.deepEqual(early.json(), { message: "manifest for fail-early:1 not found: manifest unknown: manifest unknown" });
  const late = await call(sock, "POST", "/images/create?fromImage=fail-late&tag=1");
  assert.equal(late.status, 200);
  const msgs = lines(late.text);
  assert.deepEqual(msgs.at(-1), { errorDetail: { message: "connection reset" }, error: "connection reset" });
});

test("push passes the tag and auth; errors keep the same shape", async () => {
  const auth = Buffer.from(JSON.stringify({ username: "u", password: "p" })).toString("base64");
  const r = await call(sock, "POST", "/images/r%3A5000/x/push?tag=v1", { headers: { "X-Registry-Auth": auth } });
  assert.equal(r.status, 200);
  const c = dist.calls.at(-1)!;
  assert.equal(c.op, "push");
  assert.equal(c.ref, "r:5000/x");
  assert.equal(c.opts!.tag, "v1");
  assert.deepEqual(c.opts!.auth, { username: "u", password: "p" });
  const early = await call(sock, "POST", "/images/fail-early/push?tag=1");
  assert.equal(early.status, 404);
});

test("POST /auth answers Login Succeeded, or 401 with the registry's wording", async () => {
  const ok = await call(sock, "POST", "/v1.47/auth", { body: JSON.stringify({ username: "u", password: "right", serveraddress: "r:5000" }), headers: { "Content-Type": "application/json" } });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json(), { Status: "Login Succeeded" });
  const bad = await call(sock, "POST", "/v1.47/auth", { body: JSON.stringify({ username: "u", password: "wrong", serveraddress: "r:5000" }), headers: { "Content-Type": "application/json" } });
  assert.equal(bad.status, 401);
  assert.deepEqual(bad.json(), { message: "login attempt to http://r:5000/v2/ failed with status: 401 Unauthorized" });
});
