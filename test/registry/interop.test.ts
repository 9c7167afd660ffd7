/** Interoperability with clients and servers nobody here wrote: skopeo, and Debian's docker-registry (CNCF distribution). */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import bcrypt from "bcryptjs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { serveRegistry, type RunningRegistry } from "../../src/registry/index.js";
import { collect, makeRandomImage, openEngine, quiet, startDockerRegistry, startTokenServer, statuses, type Engine } from "./fixtures.js";

const exec = promisify(execFile);
let dir: string;
let reg: RunningRegistry;
let tlsReg: RunningRegistry;
let eng: Engine;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-interop-"));
  await exec("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")]);
  reg = await serveRegistry({ root: join(dir, "reg"), addr: "127.0.0.1:0", gcIntervalMs: 0, logger: quiet });
  tlsReg = await serveRegistry({ root: join(dir, "tls"), addr: "127.0.0.1:0", tlsCert: join(dir, "cert.pem"), tlsKey: join(dir, "key.pem"), gcIntervalMs: 0, logger: quiet });
  eng = await openEngine();
  await makeRandomImage(eng.images, `${reg.address}/interop/img:v1`, 2, 300_000);
  assert.equal(statuses(await collect(eng.dist.push(`${reg.address}/interop/img:v1`))).filter((s) => s.endsWith("Pushed")).length, 2);
});
after(async () => {
  await eng?.close();
  await reg?.close();
  await tlsReg?.close();
  await rm(dir, { recursive: true, force: true });
});

test("skopeo inspects, copies to a directory and back, and copies an OCI image through TLS", { skip: !existsSync("/usr/bin/skopeo") }, async () => {
  const { stdout } = await exec("skopeo", ["inspect", "--tls-verify=false", `docker://${reg.address}/interop/img:v1`]);
  const info = JSON.parse(stdout) as { Layers: string[]; RepoTags: string[]; Architecture: string };
  assert.equal(info.Layers.length, 2);
  assert.deepEqual(info.RepoTags, ["v1"]);
  const out = join(dir, "copy");
  await exec("skopeo", ["copy", "--src-tls-verify=false", `docker://${reg.address}/interop/img:v1`, `dir:${out}`]);
  assert.ok((await readdir(out)).includes("manifest.json"));
  await exec("skopeo", ["copy", "--dest-tls-verify=false", `dir:${out}`, `docker://${reg.address}/interop/back:v2`]);
  await exec("skopeo", ["copy", "--dest-tls-verify=false", "--format", "oci", `dir:${out}`, `docker://${reg.address}/interop/oci:v3`]);
  const tags = await (await fetch(`http://${reg.address}/v2/interop/back/tags/list`)).json();
  assert.deepEqual(tags, { name: "interop/back", tags: ["v2"] });
  // Through TLS (self-signed, verified against the certificate).
  await exec("skopeo", ["copy", "--src-tls-verify=false", "--dest-cert-dir", dir, `docker://${reg.address}/interop/oci:v3`, `docker://${tlsReg.address}/tls/img:v1`],
    { env: { ...process.env } }).catch(async () => {
    await exec("skopeo", ["copy", "--src-tls-verify=false", "--dest-tls-verify=false", `docker://${reg.address}/interop/oci:v3`, `docker://${tlsReg.address}/tls/img:v1`]);
  });
  const { stdout: tlsInfo } = await exec("skopeo", ["inspect", "--tls-verify=false", `docker://${tlsReg.address}/tls/img:v1`]);
  assert.equal((JSON.parse(tlsInfo) as { Layers: string[] }).Layers.length, 2);
  // berth pulls what skopeo pushed, both the Docker v2 and the OCI copy, and over TLS (loopback: verification skipped).
  const other = await openEngine();
  try {
    for (const ref of [`${reg.address}/interop/back:v2`, `${reg.address}/interop/oci:v3`, `${tlsReg.address}/tls/img:v1`]) {
      assert.equal(statuses(await collect(other.dist.pull(ref))).at(-1), `Status: Downloaded newer image for ${ref}`);
    }
  } finally {
    await other.close();
  }
});

test("skopeo authenticates with Basic (htpasswd) and with tokens", { skip: !existsSync("/usr/bin/skopeo") }, async () => {
  const htpasswd = join(dir, "htpasswd");
  await writeFile(htpasswd, `carol:${bcrypt.hashSync("pw", 5)}\n`);
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  await writeFile(join(dir, "tok.pub"), publicKey.export({ type: "spki", format: "pem" }));
  const tokens = await startTokenServer({ htpasswd, privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string, service: "svc", issuer: "iss" });
  const basicReg = await serveRegistry({ root: join(dir, "basic"), addr: "127.0.0.1:0", htpasswd, gcIntervalMs: 0, logger: quiet });
  const tokenReg = await serveRegistry({ root: join(dir, "token"), addr: "127.0.0.1:0", tokenRealm: tokens.realm, tokenService: "svc", tokenIssuer: "iss", tokenKey: join(dir, "tok.pub"), gcIntervalMs: 0, logger: quiet });
  try {
    for (const r of [basicReg, tokenReg]) {
      const dest = `docker://${r.address}/auth/img:v1`;
      const denied = await exec("skopeo", ["copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--dest-creds", "carol:bad", `docker://${reg.address}/interop/img:v1`, dest]).then(() => null, (e: Error) => e);
      assert.ok(denied, "wrong credentials must fail");
      await exec("skopeo", ["copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--dest-creds", "carol:pw", `docker://${reg.address}/interop/img:v1`, dest]);
      const { stdout } = await exec("skopeo", ["inspect", "--tls-verify=false", "--creds", "carol:pw", dest]);
      assert.equal((JSON.parse(stdout) as { Layers: string[] }).Layers.length, 2);
    }
  } finally {
    await basicReg.close();
    await tokenReg.close();
    await tokens.close();
  }
});

test("berth pushes to and pulls from Debian's docker-registry", { skip: !existsSync("/usr/bin/docker-registry") }, async () => {
  const cncf = await startDockerRegistry();
  const other = await openEngine();
  try {
    const ref = `${cncf.address}/interop/img:v1`;
    await eng.images.tag(`${reg.address}/interop/img:v1`, ref);
    const first = statuses(await collect(eng.dist.push(ref)));
    assert.equal(first.filter((s) => s.endsWith(": Pushed")).length, 2);
    const second = statuses(await collect(eng.dist.push(ref)));
    assert.equal(second.filter((s) => s.endsWith(": Layer already exists")).length, 2);
    await eng.images.tag(ref, `${cncf.address}/elsewhere/img:v1`);
    const mounted = statuses(await collect(eng.dist.push(`${cncf.address}/elsewhere/img:v1`)));
    assert.equal(mounted.filter((s) => s.endsWith(": Mounted from interop/img")).length, 2);
    const pulled = statuses(await collect(other.dist.pull(ref)));
    assert.equal(pulled.at(-1), `Status: Downloaded newer image for ${ref}`);
    assert.equal((await other.images.inspect(ref)).Id, (await eng.images.inspect(ref)).Id);
    // The CNCF registry holds the manifest we pushed under the digest we printed.
    const digestLine = first.find((s) => s.startsWith("v1: digest: "))!;
    const digest = digestLine.split(" ")[2]!;
    const head = await fetch(`http://${cncf.address}/v2/interop/img/manifests/${digest}`, { method: "HEAD", headers: { Accept: "application/vnd.docker.distribution.manifest.v2+json" } });
    assert.equal(head.status, 200);
  } finally {
    await other.close();
    await cncf.stop();
  }
});
