import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { access, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../util/index.js";
import { DEFAULTS, type DaemonConfig } from "./config.js";
import { startDaemon, type RunningDaemon } from "./start-daemon.js";
import { FakeContainersService, FakeImagesService } from "./testing/fake-services.js";
import { call } from "./testing/test-client.js";

let dir: string;
let sock: string;
let daemon: RunningDaemon | undefined;

function docker(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("docker", args, { env: { PATH: process.env.PATH, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(dir, "docker-config") }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const dockerPresent = await access("/usr/local/bin/docker").then(() => true, () => false);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-daemon-"));
  sock = join(dir, "run", "berth.sock");
  const cfg: DaemonConfig = { ...DEFAULTS, dataRoot: join(dir, "data"), execRoot: join(dir, "exec"), hosts: [`unix://${sock}`], configFile: "" };
  const images = new FakeImagesService();
  const containers = new FakeContainersService();
  daemon = await startDaemon(cfg, {
    logger: createLogger("error"), serverVersion: "0.1.0",
    openServices: async () => ({ images, containers, close: async () => {} }),
  });
});

after(async () => {
  await daemon?.close();
  await rm(dir, { recursive: true, force: true });
});

test("the socket is 0660 and a pidfile names this process", async () => {
  assert.equal((await stat(sock)).mode & 0o777, 0o660);
  assert.equal((await call(sock, "GET", "/_ping")).text, "OK");
  await access(join(dir, "data", "berthd.pid"));
});

test("docker version, docker info, docker ps and docker images succeed against berthd", { skip: !dockerPresent && "no docker CLI" }, async () => {
  const v = await docker(["version"]);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /Server: Berth/);
  assert.match(v.stdout, /API version:\s+1\.47 \(minimum version 1\.24\)/);
  const info = await docker(["info"]);
  assert.equal(info.code, 0, info.stderr + info.stdout);
  assert.match(info.stdout, /Storage Driver: overlay2/);
  assert.doesNotMatch(info.stderr, /error/i);
  const ps = await docker(["ps", "-a"]);
  assert.equal(ps.code, 0, ps.stderr);
  const imgs = await docker(["images"]);
  assert.equal(imgs.code, 0, imgs.stderr);
  assert.match(imgs.stdout, /busybox/);
});

test("docker run drives create, attach (hijacked), wait and start in the CLI's order", { skip: !dockerPresent && "no docker CLI" }, async () => {
  const r = await docker(["run", "--name", "hi", "busybox", "echo", "hi"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "hello from echo hi\n");
  const miss = await docker(["run", "missing"]);
  assert.equal(miss.code, 125);
  assert.match(miss.stderr, /Unable to find image 'missing:latest' locally/);
  assert.match(miss.stderr, /not implemented in Berth yet/);
});

test("close removes the socket and the pidfile", async () => {
  await daemon!.close();
  daemon = undefined;
  await assert.rejects(access(sock));
  await assert.rejects(access(join(dir, "data", "berthd.pid")));
});
