/** podman, a client nobody here wrote, pulls from `berth registry serve` on loopback and runs the image. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createReadStream, existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BERTH, REPO, run } from "../helpers/daemon.js";
import { collect, freePort, openEngine } from "./fixtures.js";

const PODMAN = "/usr/bin/podman";

/** Why podman cannot run here, or null. */
function podmanMissing(): string | null {
  if (!existsSync(PODMAN)) return "podman is not installed (scripts/install-deps.sh installs it)";
  if (!existsSync("/usr/sbin/runc")) return "runc is not installed";
  return null;
}

test("podman pulls an image from berth registry serve and runs it", { skip: podmanMissing() ?? false }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-podman-"));
  const hadRunDir = existsSync("/run/containers");
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const server = spawn(process.execPath, [BERTH, "registry", "serve", "--root", join(dir, "registry"), "--addr", addr], { stdio: ["ignore", "ignore", "pipe"] });
  let serverLog = "";
  server.stderr!.on("data", (d: Buffer) => { serverLog += d.toString(); });
  const eng = await openEngine();
  // podman on this machine: runc (crun refuses the hybrid cgroup layout), cgroupfs, its own storage, no network.
  const podman = (args: string[]) => run(PODMAN, [
    "--root", join(dir, "storage"), "--runroot", join(dir, "run"), "--tmpdir", join(dir, "tmp"),
    "--runtime", "/usr/sbin/runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--storage-driver", "overlay", ...args,
  ], { timeoutMs: 120_000 });
  try {
    for (let i = 0; ; i++) {
      try { if ((await fetch(`http://${addr}/v2/`)).status === 200) break; } catch { /* not yet */ }
      if (i > 200 || server.exitCode !== null) throw new Error(`berth registry serve did not start: ${serverLog}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const rootfs = join(dir, "busybox.tar");
    const mk = await run(process.execPath, [join(REPO, "scripts/busybox-rootfs.mjs"), rootfs]);
    assert.equal(mk.code, 0, mk.stderr);
    const ref = `${addr}/podman/busybox:v1`;
    await eng.images.commitLayer({ parent: null, layer: createReadStream(rootfs), config: { Cmd: ["sh"] }, createdBy: "busybox", tag: ref });
    await collect(eng.dist.push(ref));

    const pull = await podman(["pull", "--tls-verify=false", ref]);
    assert.equal(pull.code, 0, `podman pull: ${pull.stderr}`);
    const images = await podman(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert.match(images.stdout, new RegExp(`${addr}/podman/busybox:v1`));
    const out = await podman(["run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
      ref, "sh", "-c", "echo hello from $(cat /etc/hostname | wc -c) && ls /bin/busybox"]);
    assert.equal(out.code, 0, `podman run: ${out.stderr}`);
    assert.match(out.stdout, /^hello from \d+\n\/bin\/busybox\n$/);
    // What podman verified is what berth's registry served: same config digest.
    const id = (await podman(["image", "inspect", "--format", "{{.Id}}", ref])).stdout.trim();
    assert.equal(`sha256:${id}`, (await eng.images.inspect(ref)).Id);
  } finally {
    await podman(["rm", "-a", "-f"]).catch(() => {});
    await podman(["rmi", "-a", "-f"]).catch(() => {});
    server.kill("SIGTERM");
    await eng.close();
    // podman's overlay driver leaves its storage bind-mounted (and layers mounted): unmount deepest first.
    const mounts = (await readFile("/proc/self/mountinfo", "utf8")).split("\n").map((l) => l.split(" ")[4])
      .filter((p): p is string => !!p && p.startsWith(dir)).sort((a, b) => b.length - a.length);
    for (const m of mounts) await run("umount", ["-l", m]);
    await rm(dir, { recursive: true, force: true });
    // podman makes /run/containers/networks even with --network none; leave /run as it was.
    if (!hadRunDir) await rm("/run/containers", { recursive: true, force: true });
  }
});
