/** The distribution client and DistributionService against berth's own registry (root: overlay snapshots). */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createHash, generateKeyPairSync } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { pathToFileURL } from "node:url";
import { serveRegistry, type RunningRegistry } from "../../src/registry/index.js";
import { LayerDecoder } from "../../src/distribution/index.js";
import { DistributionService } from "../../src/services/distribution-service.js";
import { collect, makeRandomImage, openEngine, quiet, startTokenServer, statuses, type Engine } from "./fixtures.js";

let regRoot: string;
let reg: RunningRegistry;
let a: Engine;
let b: Engine;

before(async () => {
  regRoot = await mkdtemp(join(tmpdir(), "berth-reg-client-"));
  reg = await serveRegistry({ root: regRoot, addr: "127.0.0.1:0", gcIntervalMs: 0, logger: quiet });
  a = await openEngine();
  b = await openEngine();
});
after(async () => {
  await a?.close();
  await b?.close();
  await reg?.close();
  await rm(regRoot, { recursive: true, force: true });
});

test("push, push again (layers exist), push after a one-layer change (only that layer), pull into another store", async () => {
  const ref = `${reg.address}/team/app:v1`;
  const id = await makeRandomImage(a.images, ref, 3, 200_000);
  const first = statuses(await collect(a.dist.push(ref)));
  assert.equal(first[0], `The push refers to repository [${reg.address}/team/app]`);
  assert.equal(first.filter((s) => s.endsWith(": Pushed")).length, 3);
  assert.match(first.at(-1)!, /^v1: digest: sha256:[0-9a-f]{64} size: \d+$/);
  const again = statuses(await collect(a.dist.push(ref)));
  assert.equal(again.filter((s) => s.endsWith(": Layer already exists")).length, 3);
  assert.equal(again.filter((s) => s.endsWith(": Pushed")).length, 0);
  // One more layer on top of the same base: only the new layer is uploaded.
  const cfg = await a.images.imageConfig(ref);
  const ref2 = `${reg.address}/team/app:v2`;
  await makeRandomImage(a.images, ref2, 1, 100_000, id);
  const changed = statuses(await collect(a.dist.push(ref2)));
  assert.equal(changed.filter((s) => s.endsWith(": Layer already exists")).length, 3);
  assert.equal(changed.filter((s) => s.endsWith(": Pushed")).length, 1);
  assert.ok((await a.images.inspect(ref)).RepoDigests.some((d) => d.startsWith(`${reg.address}/team/app@sha256:`)));

  const pulled = await collect(b.dist.pull(ref));
  const st = statuses(pulled);
  assert.equal(st[0], "v1: Pulling from team/app");
  assert.equal(st.filter((s) => s.endsWith(": Pull complete")).length, 3);
  assert.ok(pulled.some((m) => m.status === "Downloading" && m.progressDetail?.total));
  assert.ok(pulled.some((m) => m.status === "Extracting" && m.progressDetail?.current));
  assert.match(st.at(-2)!, /^Digest: sha256:/);
  assert.equal(st.at(-1), `Status: Downloaded newer image for ${ref}`);
  const inspect = await b.images.inspect(ref);
  assert.equal(inspect.Id, cfg.id);
  assert.equal(inspect.RepoDigests[0], `${reg.address}/team/app@${st.at(-2)!.slice("Digest: ".length)}`);
  // Compressed copies are dropped after unpacking: only the uncompressed layers and the config remain.
  const blobs = await readdir(join(b.dataRoot, "content", "blobs", "sha256"));
  assert.equal(blobs.length, 4);
  assert.deepEqual(await readdir(join(b.dataRoot, "distribution", "downloads")), []);
  const up = statuses(await collect(b.dist.pull(ref)));
  assert.equal(up.at(-1), `Status: Image is up to date for ${ref}`);
  // The v2 image shares three layers: they already exist.
  const v2 = statuses(await collect(b.dist.pull(ref2)));
  assert.equal(v2.filter((s) => s.endsWith(": Already exists")).length, 3);
  assert.equal(v2.filter((s) => s.endsWith(": Pull complete")).length, 1);
  // Pull by digest.
  const digest = inspect.RepoDigests[0]!.split("@")[1]!;
  const byDigest = statuses(await collect(b.dist.pull(`${reg.address}/team/app@${digest}`)));
  assert.equal(byDigest.at(-1), `Status: Image is up to date for ${reg.address}/team/app@${digest}`);
});

test("a pushed image mounts across repositories of the same registry", async () => {
  const ref = `${reg.address}/team/app:v1`;
  await a.images.tag(ref, `${reg.address}/other/copy:x`);
  const st = statuses(await collect(a.dist.push(`${reg.address}/other/copy:x`)));
  assert.equal(st.filter((s) => s.endsWith(": Mounted from team/app")).length, 3);
});

test("distribution inspect: the top descriptor and the platform from the config", async () => {
  const ref = `${reg.address}/team/app:v1`;
  const r = await b.dist.inspect(ref);
  assert.equal(r.Descriptor.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
  assert.match(r.Descriptor.digest, /^sha256:[0-9a-f]{64}$/);
  const m = await fetch(`http://${reg.address}/v2/team/app/manifests/v1`, { headers: { Accept: r.Descriptor.mediaType } });
  assert.equal(m.headers.get("docker-content-digest"), r.Descriptor.digest);
  assert.equal(r.Descriptor.size, (await m.arrayBuffer()).byteLength);
  assert.deepEqual(r.Platforms, [{ architecture: "amd64", os: "linux" }]);
  await assert.rejects(b.dist.inspect(`${reg.address}/team/app:nope`), /manifest for .*team\/app:nope not found: manifest unknown/);
});

test("rmi of a repository's last tag drops that repository's digest references, not other repositories' tags", async () => {
  const c = await openEngine();
  try {
    const ref = `${reg.address}/rmi/one:v1`;
    await makeRandomImage(c.images, ref, 1, 1000);
    await collect(c.dist.push(ref));
    await c.images.tag(ref, "other/name:keep");
    const before = (await c.images.inspect(ref)).RepoDigests;
    assert.equal(before.length, 1);
    assert.ok(before[0]!.startsWith(`${reg.address}/rmi/one@sha256:`));
    const records = await c.images.remove(ref);
    assert.deepEqual(records.map((x) => ("Untagged" in x ? x.Untagged : x.Deleted)), [ref, before[0]]);
    const after = await c.images.inspect("other/name:keep");
    assert.deepEqual(after.RepoTags, ["other/name:keep"]);
    assert.deepEqual(after.RepoDigests, []);
  } finally {
    await c.close();
  }
});

test("a manifest that references a missing blob fails with blob unknown and leaves nothing", async () => {
  const c = await openEngine();
  try {
    const missing = `sha256:${"0".repeat(64)}`;
    const m = JSON.parse(await (await fetch(`http://${reg.address}/v2/team/app/manifests/v1`, { headers: { Accept: "application/vnd.docker.distribution.manifest.v2+json" } })).text());
    m.layers[0].digest = missing;
    // berth's registry refuses such a manifest; serve it from a stand-in that answers like one that accepted it.
    const server = createServer((req, res) => {
      if (req.url?.includes("/manifests/")) {
        res.writeHead(200, { "Content-Type": m.mediaType }).end(JSON.stringify(m));
        return;
      }
      const [host, port] = reg.address.split(":");
      const up = httpRequest({ host, port: Number(port), path: req.url, method: req.method, headers: req.headers }, (ur) => { res.writeHead(ur.statusCode ?? 500, ur.headers); ur.pipe(res); });
      req.pipe(up);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      await assert.rejects(collect(c.dist.pull(`${addr}/team/app:v1`)), (err: Error) => {
        assert.match(err.message, new RegExp(`blob ${missing} not found in .*: blob unknown`));
        return true;
      });
      assert.deepEqual(await readdir(join(c.dataRoot, "content", "blobs", "sha256")), []);
      assert.deepEqual(await readdir(join(c.dataRoot, "distribution", "downloads")), []);
      assert.equal((await c.images.list()).length, 0);
    } finally {
      await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
    }
  } finally {
    await c.close();
  }
});

test("unknown tag and unknown repository give Docker's errors", async () => {
  await assert.rejects(collect(b.dist.pull(`${reg.address}/team/app:nope`)), (err: Error) => {
    assert.match(err.message, /^manifest for 127\.0\.0\.1:\d+\/team\/app:nope not found: manifest unknown/);
    return true;
  });
  await assert.rejects(collect(b.dist.pull(`${reg.address}/no/such:v1`)), /pull access denied for 127\.0\.0\.1:\d+\/no\/such, repository does not exist/);
  await assert.rejects(collect(a.dist.push(`${reg.address}/team/missing:v1`)), /An image does not exist locally with the tag/);
});

/** A proxy in front of the registry that misbehaves on blob GETs in the chosen way. */
/** A failed pull rolled back whole: no blob, no layer snapshot, no download spool, no image. */
async function assertNothingLeft(c: Engine): Promise<void> {
  assert.deepEqual(await readdir(join(c.dataRoot, "content", "blobs", "sha256")), []);
  assert.deepEqual(await readdir(join(c.dataRoot, "snapshots")).then((d) => d.filter((x) => /^\d+$/.test(x))), []);
  assert.deepEqual(await readdir(join(c.dataRoot, "distribution", "downloads")), []);
  assert.equal((await c.images.list({ all: true })).length, 0);
}

async function faultyProxy(mode: "corrupt" | "truncate-once" | "500-twice" | "stall-once" | "500-always" | "stall-always"): Promise<{ address: string; ranges: string[]; close(): Promise<void> }> {
  const ranges: string[] = [];
  let count = 0;
  const server: Server = createServer((req, res) => {
    const isBlob = req.method === "GET" && /\/blobs\/sha256:/.test(req.url ?? "");
    if (isBlob && req.headers.range) ranges.push(req.headers.range);
    if (isBlob && (mode === "500-always" || (mode === "500-twice" && count++ < 2))) {
      res.writeHead(500, { "Content-Type": "application/json" }).end('{"errors":[{"code":"UNKNOWN","message":"boom"}]}');
      return;
    }
    const [host, port] = reg.address.split(":");
    const up = httpRequest({ host, port: Number(port), path: req.url, method: req.method, headers: req.headers }, (ur) => {
      const big = Number(ur.headers["content-length"] ?? 0) > 10_000;
      res.writeHead(ur.statusCode ?? 500, ur.headers);
      if (isBlob && big && mode === "corrupt") {
        let first = true;
        ur.on("data", (c: Buffer) => { if (first) { c = Buffer.from(c); c[0] = c[0]! ^ 0xff; first = false; } res.write(c); });
        ur.on("end", () => res.end());
      } else if (isBlob && big && (mode === "stall-always" || ((mode === "truncate-once" || mode === "stall-once") && count++ === 0))) {
        let sent = 0;
        const limit = mode === "stall-always" ? 10_000 : 50_000;
        ur.on("data", (c: Buffer) => {
          if (sent > limit) return;
          sent += c.length;
          if (sent <= limit) { res.write(c); return; }
          ur.destroy();
          // Let the partial body reach the client before the connection drops (or stalls).
          res.write(mode === "stall-always" ? c.subarray(0, Math.max(1, limit - (sent - c.length))) : c, () => { if (mode === "truncate-once") setTimeout(() => res.destroy(), 50); });
        });
      } else {
        ur.pipe(res);
      }
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`, ranges,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

test("a corrupted blob fails verification and leaves nothing behind", async () => {
  const p = await faultyProxy("corrupt");
  const c = await openEngine();
  try {
    await assert.rejects(collect(c.dist.pull(`${p.address}/team/app:v1`)), /filesystem layer verification failed for digest sha256:/);
    assert.deepEqual(await readdir(join(c.dataRoot, "content", "blobs", "sha256")), []);
    assert.deepEqual(await readdir(join(c.dataRoot, "content", "ingest")), []);
    assert.deepEqual(await readdir(join(c.dataRoot, "distribution", "downloads")), []);
    assert.deepEqual(await readdir(join(c.dataRoot, "snapshots")).then((d) => d.filter((x) => /^\d+$/.test(x))), []);
    assert.equal((await c.images.list()).length, 0);
  } finally {
    await c.close();
    await p.close();
  }
});

test("a truncated download resumes with Range; 500s are retried; a stall times out and resumes", async () => {
  for (const mode of ["truncate-once", "500-twice", "stall-once"] as const) {
    const p = await faultyProxy(mode);
    const c = await openEngine({ idleTimeoutMs: 1000 });
    try {
      const st = statuses(await collect(c.dist.pull(`${p.address}/team/app:v1`)));
      assert.equal(st.at(-1), `Status: Downloaded newer image for ${p.address}/team/app:v1`, mode);
      if (mode !== "500-twice") assert.ok(p.ranges.some((r) => /^bytes=[1-9]\d*-$/.test(r)), `${mode}: ${p.ranges.join(",")}`);
    } finally {
      await c.close();
      await p.close();
    }
  }
});

test("a config whose diff id does not match the layer: the streamed extraction is discarded, nothing left", async () => {
  const c = await openEngine();
  try {
    const base = `http://${reg.address}/v2/team/app`;
    const accept = { Accept: "application/vnd.docker.distribution.manifest.v2+json" };
    const m = JSON.parse(await (await fetch(`${base}/manifests/v1`, { headers: accept })).text());
    const cfg = JSON.parse(await (await fetch(`${base}/blobs/${m.config.digest}`)).text());
    cfg.rootfs.diff_ids[1] = `sha256:${"1".repeat(64)}`;
    const cfgBytes = Buffer.from(JSON.stringify(cfg));
    const cfgDigest = `sha256:${createHash("sha256").update(cfgBytes).digest("hex")}`;
    const up = await fetch(`${base}/blobs/uploads/`, { method: "POST" });
    const loc = new URL(up.headers.get("location")!, `http://${reg.address}`);
    loc.searchParams.set("digest", cfgDigest);
    assert.equal((await fetch(loc, { method: "PUT", body: cfgBytes })).status, 201);
    m.config = { ...m.config, digest: cfgDigest, size: cfgBytes.length };
    const put = await fetch(`${base}/manifests/bad-diff`, { method: "PUT", headers: { "Content-Type": m.mediaType }, body: JSON.stringify(m) });
    assert.equal(put.status, 201);
    await assert.rejects(collect(c.dist.pull(`${reg.address}/team/app:bad-diff`)), /invalid diffID for layer 1: expected sha256:1{64}, got sha256:/);
    // The whole pull is rolled back: no blob, no snapshot, no spool, no image.
    await assertNothingLeft(c);
  } finally {
    await c.close();
  }
});

test("a registry that keeps answering 500 or keeps stalling: retries, then a clear error and nothing left", async () => {
  const cases = [["500-always", /unknown: boom/], ["stall-always", /timeout: 127\.0\.0\.1:\d+ stalled for 300 ms/]] as const;
  for (const [mode, message] of cases) {
    const p = await faultyProxy(mode);
    const c = await openEngine({ idleTimeoutMs: 300, retryBackoffMs: 10 });
    try {
      const t0 = Date.now();
      await assert.rejects(collect(c.dist.pull(`${p.address}/team/app:v1`)), message);
      assert.ok(Date.now() - t0 < 20_000, `${mode}: gave up after ${Date.now() - t0} ms`);
      if (mode === "stall-always") assert.ok(p.ranges.length >= 2, `${mode}: resumed ${p.ranges.length} times`);
      assert.deepEqual(await readdir(join(c.dataRoot, "content", "blobs", "sha256")), []);
      assert.deepEqual(await readdir(join(c.dataRoot, "distribution", "downloads")).catch(() => []), []);
      assert.equal((await c.images.list()).length, 0);
    } finally {
      await c.close();
      await p.close();
    }
  }
});

test("htpasswd and token auth: login, refused credentials, push and pull with credentials", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-auth-"));
  const htpasswd = join(dir, "htpasswd");
  await writeFile(htpasswd, `bob:${bcrypt.hashSync("pw", 5)}\n`);
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  await writeFile(join(dir, "key.pub"), publicKey.export({ type: "spki", format: "pem" }));
  const tokens = await startTokenServer({ htpasswd, privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string, service: "berth-test", issuer: "test" });
  const basicReg = await serveRegistry({ root: join(dir, "basic"), addr: "127.0.0.1:0", htpasswd, gcIntervalMs: 0, logger: quiet });
  const tokenReg = await serveRegistry({ root: join(dir, "token"), addr: "127.0.0.1:0", tokenRealm: tokens.realm, tokenService: "berth-test", tokenIssuer: "test", tokenKey: join(dir, "key.pub"), gcIntervalMs: 0, logger: quiet });
  const c = await openEngine();
  try {
    for (const r of [basicReg, tokenReg]) {
      const good = { username: "bob", password: "pw", serveraddress: r.address };
      await assert.rejects(c.dist.login({ ...good, password: "bad" }), (err: Error & { kind?: string }) => err.kind === "unauthorized");
      assert.deepEqual(await c.dist.login(good), { Status: "Login Succeeded", IdentityToken: "" });
      const ref = `${r.address}/secure/app:v1`;
      await makeRandomImage(c.images, ref, 2, 50_000);
      await assert.rejects(collect(c.dist.push(ref)), (err: Error & { kind?: string }) => err.kind === "unauthorized");
      const bad = { ...good, password: "bad" };
      await assert.rejects(collect(c.dist.push(ref, { auth: bad })), (err: Error & { kind?: string }) => err.kind === "unauthorized" && /^unauthorized: /.test(err.message));
      const pushed = statuses(await collect(c.dist.push(ref, { auth: good })));
      assert.equal(pushed.filter((s) => s.endsWith(": Pushed")).length, 2);
      await c.images.remove(ref);
      await assert.rejects(collect(c.dist.pull(ref)), /pull access denied|unauthorized/);
      // Wrong credentials: Docker's "unauthorized: ..." wording, and nothing pulled.
      await assert.rejects(collect(c.dist.pull(ref, { auth: bad })), (err: Error & { kind?: string }) => err.kind === "unauthorized" && /unauthorized: /.test(err.message));
      await assert.rejects(c.images.inspect(ref), (err: Error & { kind?: string }) => err.kind === "not-found");
      const pulled = statuses(await collect(c.dist.pull(ref, { auth: good })));
      assert.equal(pulled.at(-1), `Status: Downloaded newer image for ${ref}`);
    }
    // Tokens are cached per scope: a handful of token requests, not one per HTTP request.
    assert.ok(tokens.requests < 20, `token requests: ${tokens.requests}`);
  } finally {
    await c.close();
    await basicReg.close();
    await tokenReg.close();
    await tokens.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("a decode worker that dies mid-layer fails the pull cleanly: nothing left", async () => {
  const c = await openEngine();
  const file = join(c.dataRoot, "crash-worker.mjs");
  await writeFile(file, `import { parentPort } from "node:worker_threads";\nparentPort.on("message", (m) => { if (m.t === "fetch") process.exit(3); });\n`);
  try {
    const dist = new DistributionService({ images: c.images, content: c.images.content, logger: quiet, config: {}, decoder: new LayerDecoder(1, pathToFileURL(file)) });
    await assert.rejects(collect(dist.pull(`${reg.address}/team/app:v1`)), /layer decoder thread exited \(code 3\)/);
    await assertNothingLeft(c);
  } finally {
    await c.close();
  }
});
