import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeContainersService, FakeImagesService } from "../daemon/testing/fake-services.js";
import { SystemService } from "./system-service.js";

async function withService(fn: (s: SystemService, c: FakeContainersService, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "berth-system-"));
  const containers = new FakeContainersService();
  const s = new SystemService({
    images: new FakeImagesService(), containers, dataRoot: dir, runtime: "runc",
    serverVersion: "9.9.9", apiVersion: "1.47", minApiVersion: "1.24", registryMirrors: ["http://mirror:5000"], insecureRegistries: ["reg.local:5000"],
  });
  try { await fn(s, containers, dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

test("the engine id is created once and kept in the data root", async () => {
  await withService(async (s, _c, dir) => {
    const id = await s.engineId();
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal((await readFile(join(dir, "engine-id"), "utf8")).trim(), id);
    assert.equal((await s.info()).ID, id);
  });
});

test("info counts containers by state and reports the host truthfully", async () => {
  await withService(async (s, c) => {
    c.add({ id: "a", state: "running" });
    c.add({ id: "b", state: "exited" });
    c.add({ id: "d", state: "created" });
    const info = await s.info();
    assert.deepEqual([info.Containers, info.ContainersRunning, info.ContainersPaused, info.ContainersStopped], [3, 1, 0, 2]);
    assert.equal(info.ServerVersion, "9.9.9");
    assert.equal(info.DefaultRuntime, "runc");
    assert.equal(info.OSType, "linux");
    assert.ok(["1", "2"].includes(info.CgroupVersion as string));
    const reg = info.RegistryConfig as { Mirrors: string[]; IndexConfigs: Record<string, { Secure: boolean }> };
    assert.deepEqual(reg.Mirrors, ["http://mirror:5000"]);
    assert.equal(reg.IndexConfigs["reg.local:5000"]!.Secure, false);
  });
});

test("version names the engine and the API range; df honours type", async () => {
  await withService(async (s, c) => {
    const v = await s.version();
    assert.equal(v.Components[0]!.Name, "Engine");
    assert.equal(v.ApiVersion, "1.47");
    assert.equal(v.MinAPIVersion, "1.24");
    c.add({ id: "a", state: "running" });
    const onlyImages = await s.df(["image"]);
    assert.equal(onlyImages.Containers.length, 0);
    assert.equal(onlyImages.Images.length, 2);
    const all = await s.df();
    assert.equal(all.Containers.length, 1);
    assert.deepEqual([all.Volumes, all.BuildCache], [[], []]);
  });
});
