/**
 * Pull, push and login end to end: `berth registry serve` processes on loopback ports, the real docker CLI
 * (and the berth CLI) against berthd.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { BERTH, startDaemon, makeBusyboxImage, type TestDaemon } from "../helpers/daemon.js";

interface Registry { address: string; proc: ChildProcess; log(): string }

let d: TestDaemon;
let tmp: string;
let imageId: string;
const registries: Registry[] = [];

/** `berth registry serve` on a free loopback port; the port is read from its "listening on" line. */
async function serveRegistry(root: string, extra: string[] = []): Promise<Registry> {
  const proc = spawn(process.execPath, [BERTH, "registry", "serve", "--root", root, "--addr", "127.0.0.1:0", ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (c: Buffer) => { out += c.toString(); });
  proc.stderr!.on("data", (c: Buffer) => { out += c.toString(); });
  const reg: Registry = { address: "", proc, log: () => out };
  registries.push(reg);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const m = /listening on (127\.0\.0\.1:\d+)/.exec(out);
    if (m) { reg.address = m[1]!; return reg; }
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`berth registry serve did not start:\n${out}`);
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "berth-e2e-reg-"));
  d = await startDaemon();
  imageId = await makeBusyboxImage(d);
});

after(async () => {
  for (const r of registries) {
    if (r.proc.exitCode === null && r.proc.signalCode === null) {
      r.proc.kill("SIGTERM");
      await new Promise<void>((res) => { const t = setTimeout(() => { r.proc.kill("SIGKILL"); res(); }, 5000); r.proc.once("exit", () => { clearTimeout(t); res(); }); });
    }
  }
  await d?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test("docker push, push again, rmi, pull and run through berth's registry", async () => {
  const reg = await serveRegistry(join(tmp, "open"));
  const ref = `${reg.address}/bb:1`;
  assert.equal((await d.docker(["tag", "busybox", ref])).code, 0);

  const push = await d.docker(["push", ref]);
  assert.equal(push.code, 0, push.stderr + d.logs());
  assert.match(push.stdout, new RegExp(`The push refers to repository \\[${reg.address}/bb\\]`));
  assert.match(push.stdout, /: Pushed/);
  const digest = /1: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(push.stdout)?.[1];
  assert.ok(digest, push.stdout);

  const again = await d.docker(["push", ref]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /: Layer already exists/);
  assert.doesNotMatch(again.stdout, /: Pushed/);
  assert.match(again.stdout, new RegExp(`1: digest: ${digest} size: \\d+`));

  // Both names go, so the layer itself is gone and the pull really downloads it. (busybox first: the
  // digest reference the push recorded goes with the last tag of its repository.)
  const rmi = await d.docker(["rmi", "busybox", ref]);
  assert.equal(rmi.code, 0, rmi.stderr);
  const left = await d.docker(["images", "-a"]);
  assert.equal(left.stdout.trim().split("\n").length, 1, rmi.stdout + left.stdout);

  const pull = await d.docker(["pull", ref]);
  assert.equal(pull.code, 0, pull.stderr + d.logs());
  assert.match(pull.stdout, /1: Pulling from bb/);
  assert.match(pull.stdout, /: Pull complete/);
  assert.match(pull.stdout, new RegExp(`Digest: ${digest}`));
  assert.match(pull.stdout, new RegExp(`Status: Downloaded newer image for ${reg.address}/bb:1`));
  const [img] = JSON.parse((await d.docker(["image", "inspect", ref])).stdout) as { Id: string; RepoDigests: string[] }[];
  assert.equal(img!.Id, imageId);
  assert.deepEqual(img!.RepoDigests, [`${reg.address}/bb@${digest}`]);

  const up = await d.docker(["pull", ref]);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /Already exists/);
  assert.match(up.stdout, /Status: Image is up to date/);

  const byDigest = await d.docker(["pull", `${reg.address}/bb@${digest}`]);
  assert.equal(byDigest.code, 0, byDigest.stderr);
  const platform = await d.docker(["pull", "--platform", "linux/amd64", ref]);
  assert.equal(platform.code, 0, platform.stderr);
  const otherPlatform = await d.docker(["pull", "--platform", "linux/s390x", ref]);
  assert.equal(otherPlatform.code, 1);
  assert.match(otherPlatform.stderr, /does not match the specified platform: wanted linux\/s390x/);

  const run = await d.docker(["run", "--rm", "--network", "none", ref, "echo", "pulled and running"]);
  assert.equal(run.code, 0, run.stderr + d.logs());
  assert.equal(run.stdout.trim(), "pulled and running");

  const unknownTag = await d.docker(["pull", `${reg.address}/bb:nope`]);
  assert.equal(unknownTag.code, 1);
  assert.match(unknownTag.stderr, new RegExp(`Error response from daemon: manifest for ${reg.address}/bb:nope not found: manifest unknown`));
  const unknownRepo = await d.docker(["pull", `${reg.address}/nothere:1`]);
  assert.equal(unknownRepo.code, 1);
  assert.match(unknownRepo.stderr, /pull access denied for .*nothere, repository does not exist or may require 'docker login'/);

  const missing = await d.docker(["push", `${reg.address}/never:1`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /An image does not exist locally with the tag: .*never/);
});

test("berth pull and push: quiet output, default tag, a second tag pushes no layer", async () => {
  const reg = await serveRegistry(join(tmp, "cli"));
  const ref = `${reg.address}/tools/bb`;
  await makeBusyboxImage(d, `${ref}:latest`);
  const push = await d.berth(["push", ref]);
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stdout, /^Using default tag: latest\n/);
  assert.match(push.stdout, /latest: digest: sha256:[0-9a-f]{64}/);
  assert.equal((await d.berth(["tag", `${ref}:latest`, `${ref}:v2`])).code, 0);
  const q = await d.berth(["push", "-q", `${ref}:v2`]);
  assert.equal(q.code, 0, q.stderr);
  assert.equal(q.stdout.trim(), `${ref}:v2`);

  assert.equal((await d.berth(["rmi", `${ref}:latest`, `${ref}:v2`])).code, 0);
  const pull = await d.berth(["pull", "-q", `${ref}:v2`]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.equal(pull.stdout.trim(), `${ref}:v2`);
  const all = await d.berth(["pull", "-a", ref]);
  assert.equal(all.code, 0, all.stderr);
  const tags = (await d.berth(["images", "--format", "{{.Tag}}", ref])).stdout.split("\n").filter(Boolean).sort();
  assert.deepEqual(tags, ["latest", "v2"]);
  const bad = await d.berth(["pull", `${reg.address}/tools/bb:nope`]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /manifest unknown/);
  const dockerBad = await d.docker(["pull", `${reg.address}/tools/bb:nope`]);
  assert.equal(dockerBad.code, 1);
  assert.match(dockerBad.stderr, new RegExp(`manifest for ${reg.address}/tools/bb:nope not found: manifest unknown: `));

  // GET /distribution/{name}/json: what `docker manifest`, buildx and --platform checks ask the daemon.
  const info = await d.api("GET", `/v1.47/distribution/${ref}:v2/json`);
  assert.equal(info.status, 200, info.body);
  const body = JSON.parse(info.body) as { Descriptor: { mediaType: string; digest: string; size: number }; Platforms: { os: string; architecture: string }[] };
  assert.equal(body.Descriptor.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
  const digests = (await d.docker(["image", "inspect", "--format", "{{json .RepoDigests}}", `${ref}:v2`])).stdout;
  assert.ok(digests.includes(body.Descriptor.digest), `${digests} lacks ${body.Descriptor.digest}`);
  assert.deepEqual(body.Platforms.map((p) => `${p.os}/${p.architecture}`), ["linux/amd64"]);
  const unknown = await d.api("GET", `/distribution/${encodeURIComponent(`${reg.address}/tools/bb:nope`)}/json`);
  assert.equal(unknown.status, 404);
  assert.match(JSON.parse(unknown.body).message, /manifest unknown/);
});

test("login with an htpasswd registry: wrong password fails, stored credentials push, logout forgets them", async () => {
  const htpasswd = join(tmp, "htpasswd");
  await writeFile(htpasswd, `alice:${bcrypt.hashSync("s3cret", 5)}\n`);
  const reg = await serveRegistry(join(tmp, "auth"), ["--htpasswd", htpasswd]);
  const ref = `${reg.address}/private/bb:1`;
  assert.equal((await d.docker(["tag", imageId, ref])).code, 0);

  const anon = await d.docker(["push", ref]);
  assert.equal(anon.code, 1);
  assert.match(anon.stderr, /unauthorized: authentication required/);

  const wrong = await d.berth(["login", "-u", "alice", "--password-stdin", reg.address], { input: "nope\n" });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, new RegExp(`Error response from daemon: login attempt to http://${reg.address}/v2/ failed with status: 401 Unauthorized`));
  const wrongDocker = await d.docker(["login", "-u", "alice", "--password-stdin", reg.address], { input: "nope\n" });
  assert.equal(wrongDocker.code, 1);
  assert.match(wrongDocker.stderr, /401 Unauthorized/);
  const configPath = join(d.root, "docker-config", "config.json");
  await assert.rejects(readFile(configPath, "utf8"));

  const ok = await d.berth(["login", "-u", "alice", "--password-stdin", reg.address], { input: "s3cret\n" });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), "Login Succeeded");
  const cfg = JSON.parse(await readFile(configPath, "utf8")) as { auths: Record<string, { auth: string }> };
  assert.equal(Buffer.from(cfg.auths[reg.address]!.auth, "base64").toString(), "alice:s3cret");

  // The stored credentials serve both CLIs: each sends them as X-Registry-Auth.
  const push = await d.docker(["push", ref]);
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stdout, /1: digest: sha256:/);
  assert.equal((await d.docker(["rmi", ref])).code, 0);
  const pull = await d.berth(["pull", ref]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.match(pull.stdout, /Status: Downloaded newer image/);

  const out = await d.berth(["logout", reg.address]);
  assert.equal(out.stdout.trim(), `Removing login credentials for ${reg.address}`);
  assert.equal((await d.berth(["logout", reg.address])).stdout.trim(), `Not logged in to ${reg.address}`);
  const denied = await d.berth(["pull", ref]);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /pull access denied|unauthorized/);

  const nonTty = await d.berth(["login", reg.address]);
  assert.equal(nonTty.code, 1);
  assert.match(nonTty.stderr, /Cannot perform an interactive login from a non TTY device/);
});
