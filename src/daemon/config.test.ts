import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, parseFlags, reloadConfig, socketPathOf } from "./config.js";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "berth-cfg-"));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

test("flags override defaults; --flag=value and repeated -H work", async () => {
  await withDir(async (dir) => {
    const cfg = await loadConfig([
      "--data-root", join(dir, "data"), "--exec-root=" + join(dir, "exec"), "-H", "unix:///tmp/a.sock", "--host", "unix:///tmp/b.sock", "--log-level", "debug",
    ]);
    assert.equal(cfg.dataRoot, join(dir, "data"));
    assert.equal(cfg.execRoot, join(dir, "exec"));
    assert.deepEqual(cfg.hosts, ["unix:///tmp/a.sock", "unix:///tmp/b.sock"]);
    assert.equal(cfg.logLevel, "debug");
    assert.equal(cfg.runtime, "runc");
  });
});

test("daemon.json keys mirror the flags; unknown keys are refused like dockerd", async () => {
  await withDir(async (dir) => {
    const file = join(dir, "daemon.json");
    await writeFile(file, JSON.stringify({ "data-root": "/srv/berth", hosts: ["unix:///tmp/x.sock"], "registry-mirrors": ["http://m:5000"], dns: ["10.0.0.1"] }));
    const cfg = await loadConfig(["--config", file]);
    assert.equal(cfg.dataRoot, "/srv/berth");
    assert.deepEqual(cfg.hosts, ["unix:///tmp/x.sock"]);
    assert.deepEqual(cfg.registryMirrors, ["http://m:5000"]);
    await writeFile(file, JSON.stringify({ "data-root": "/x", "storage-driver": "vfs", colour: 1 }));
    await assert.rejects(loadConfig(["--config", file]), { message: "the following directives don't match any configuration option: storage-driver, colour" });
  });
});

test("a key set both by flag and file is an error; bad values are errors", async () => {
  await withDir(async (dir) => {
    const file = join(dir, "daemon.json");
    await writeFile(file, JSON.stringify({ "log-level": "warn" }));
    await assert.rejects(loadConfig(["--config", file, "--log-level", "debug"]), /specified both as a flag and in the configuration file: log-level/);
    await assert.rejects(loadConfig(["--runtime", "youki"]), /invalid value for runtime: "youki" is not one of runc, crun/);
    await assert.rejects(loadConfig(["-H", "tcp://0.0.0.0:2375"]), /only unix:\/\/\/path sockets are supported/);
    await assert.rejects(loadConfig(["--bogus"]), { message: "unknown flag: --bogus" });
    await assert.rejects(loadConfig(["--data-root"]), { message: "flag needs an argument: --data-root" });
    await writeFile(file, "{not json");
    await assert.rejects(loadConfig(["--config", file]), /invalid JSON/);
  });
});

test("a missing explicit config file is an error; SIGHUP reload reads only reloadable keys", async () => {
  await withDir(async (dir) => {
    await assert.rejects(loadConfig(["--config", join(dir, "missing.json")]), /unable to configure the daemon with file .*missing\.json/);
    const file = join(dir, "daemon.json");
    await writeFile(file, JSON.stringify({ "log-level": "debug", "data-root": "/elsewhere" }));
    assert.deepEqual(await reloadConfig(file), { logLevel: "debug" });
    assert.deepEqual(await reloadConfig(join(dir, "missing.json")), {});
  });
});

test("parseFlags knows help and version; socketPathOf strips the scheme", () => {
  assert.equal(parseFlags(["--help"]).help, true);
  assert.equal(socketPathOf("unix:///run/berth/berth.sock"), "/run/berth/berth.sock");
});

test("registry settings: concurrency limits from flag or file, an embedded registry object", async () => {
  await withDir(async (dir) => {
    const file = join(dir, "daemon.json");
    await writeFile(file, JSON.stringify({ "max-concurrent-uploads": 2, "insecure-registries": ["10.0.0.0/8"], registry: { root: "reg", htpasswd: "/etc/htpasswd" } }));
    const cfg = await loadConfig(["--config", file, "--max-concurrent-downloads", "7"]);
    assert.equal(cfg.maxConcurrentDownloads, 7);
    assert.equal(cfg.maxConcurrentUploads, 2);
    assert.deepEqual(cfg.insecureRegistries, ["10.0.0.0/8"]);
    assert.deepEqual(cfg.registry, { root: join(process.cwd(), "reg"), htpasswd: "/etc/htpasswd", addr: "127.0.0.1:5000" });
    await writeFile(file, JSON.stringify({}));
    const defaults = await loadConfig(["--config", file]);
    assert.equal(defaults.maxConcurrentDownloads, 3);
    assert.equal(defaults.registry, null);
    await assert.rejects(loadConfig(["--config", file, "--max-concurrent-downloads", "0"]), { message: "invalid value for max-concurrent-downloads: must be a positive integer" });
    await writeFile(file, JSON.stringify({ registry: { addr: "127.0.0.1:0" } }));
    await assert.rejects(loadConfig(["--config", file]), { message: "invalid value for registry: root is required" });
    await writeFile(file, JSON.stringify({ registry: { root: "/r", port: 5000 } }));
    await assert.rejects(loadConfig(["--config", file]), { message: "invalid value for registry: unknown keys port" });
  });
});
