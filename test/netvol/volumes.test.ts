import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile, mkdir, readFile, access, symlink, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalVolumesService } from "../../src/services/volumes-service.js";
import { isMountPoint, unmountAll } from "../../src/sys/mount.js";
import { newId } from "../../src/util/index.js";

let root = "";
let svc: LocalVolumesService;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "berth-vol-"));
  svc = new LocalVolumesService({ dataRoot: join(root, "data") });
});

after(async () => {
  // Unmount anything a failed test may have left (tmpfs volumes), then remove the tree.
  for (const n of await readdir(join(root, "data", "volumes")).catch(() => [] as string[])) await unmountAll(join(root, "data", "volumes", n, "_data")).catch(() => {});
  await rm(root, { recursive: true, force: true });
});

test("volumes: create, list filters, inspect, rm refused while in use, prune anonymous only unless all", async () => {
  const v = await svc.create({ Name: "data1", Labels: { app: "x" } });
  assert.equal(v.Mountpoint, join(root, "data", "volumes", "data1", "_data"));
  assert.equal((await svc.create({ Name: "data1" })).CreatedAt, v.CreatedAt);
  await assert.rejects(svc.create({ Name: "bad/name" }), /invalid characters/);
  await assert.rejects(svc.inspect("nope"), /no such volume/);
  await svc.remove("nope", { force: true });

  const cid = newId();
  const plan = await svc.plan({ binds: ["data1:/data", "/anon"] }, cid);
  assert.equal(plan.mounts.length, 2);
  const anon = plan.mountPoints.find((m) => m.Destination === "/anon")!.Name!;
  assert.match(anon, /^[0-9a-f]{64}$/);
  assert.deepEqual((await svc.list({ filters: { label: ["app=x"] } })).Volumes.map((x) => x.Name), ["data1"]);
  assert.deepEqual((await svc.list({ filters: { dangling: ["true"] } })).Volumes.map((x) => x.Name), []);
  await assert.rejects(svc.remove("data1"), /volume is in use/);
  await assert.rejects(svc.remove("data1", { force: true }), /volume is in use/);

  await svc.release(cid, { removeAnonymous: false });
  assert.deepEqual((await svc.list({ filters: { dangling: ["true"] } })).Volumes.map((x) => x.Name).sort(), [anon, "data1"].sort());
  const pr = await svc.prune();
  assert.deepEqual(pr.VolumesDeleted, [anon]);
  await svc.create({ Name: "spare" });
  const pr2 = await svc.prune({ filters: { all: ["true"], label: ["app=x"] } });
  assert.deepEqual(pr2.VolumesDeleted, ["data1"]);
  await svc.remove("spare");
  assert.deepEqual((await svc.list()).Volumes, []);
});

test("volumes: data outlives containers and a daemon restart; rm -v removes anonymous, keeps named", async () => {
  const c1 = newId();
  const p1 = await svc.plan({ mounts: [{ Type: "volume", Source: "keep", Target: "/k" }], binds: ["/tmp-anon"] }, c1);
  const keepPath = p1.mounts.find((m) => m.destination === "/k")!.source!;
  const anonName = p1.mountPoints.find((m) => m.Destination === "/tmp-anon")!.Name!;
  await writeFile(join(keepPath, "f"), "persist");
  await svc.release(c1, { removeAnonymous: true });
  await assert.rejects(svc.inspect(anonName), /no such volume/);

  svc = new LocalVolumesService({ dataRoot: join(root, "data") });
  const c2 = newId();
  const p2 = await svc.plan({ binds: ["keep:/again:ro"] }, c2);
  assert.equal(await readFile(join(p2.mounts[0]!.source!, "f"), "utf8"), "persist");
  assert.deepEqual(p2.mounts[0]!.options, ["rbind", "rprivate", "ro"]);
  assert.equal(p2.mountPoints[0]!.RW, false);

  // --volumes-from shares the same volume at the same place.
  const c3 = newId();
  const p3 = await svc.plan({ volumesFrom: [`${c2}:rw`] }, c3);
  assert.equal(p3.mounts[0]!.destination, "/again");
  assert.equal(p3.mounts[0]!.source, p2.mounts[0]!.source);
  assert.equal(p3.mountPoints[0]!.RW, true);
  await svc.release(c2);
  await assert.rejects(svc.remove("keep"), /in use/);
  await svc.release(c3);
  await svc.remove("keep");
});

test("volumes: copy-up from the image into a new empty volume, never through a symlink out of the rootfs", async () => {
  const rootfs = join(root, "rootfs");
  await mkdir(join(rootfs, "etc", "app"), { recursive: true });
  await writeFile(join(rootfs, "etc", "app", "conf"), "from-image");
  await mkdir(join(root, "outside"));
  await writeFile(join(root, "outside", "secret"), "host");
  await symlink("../outside", join(rootfs, "escape"));
  const cid = newId();
  const p = await svc.plan({ binds: ["cfg:/etc/app"], imageVolumes: { "/escape": {}, "/etc/app": {} } }, cid);
  assert.equal(p.mounts.length, 2, "image VOLUME at a user mount's path is not doubled");
  await svc.populate(cid, rootfs);
  const cfg = await svc.inspect("cfg");
  assert.equal(await readFile(join(cfg.Mountpoint, "conf"), "utf8"), "from-image");
  const esc = p.mounts.find((m) => m.destination === "/escape")!.source!;
  assert.deepEqual(await readdir(esc), []);
  // Not again: the volume keeps what the container wrote.
  await writeFile(join(cfg.Mountpoint, "conf"), "changed");
  await svc.populate(cid, rootfs);
  assert.equal(await readFile(join(cfg.Mountpoint, "conf"), "utf8"), "changed");
  await svc.release(cid, { removeAnonymous: true });
  await svc.remove("cfg");
  assert.deepEqual((await svc.list()).Volumes, []);
});

test("volumes: binds, tmpfs, local tmpfs and bind-like volumes, bad input", async () => {
  const cid = newId();
  const hostDir = join(root, "made-by-v");
  const p = await svc.plan({
    binds: [`${hostDir}:/h:ro,rslave`],
    mounts: [{ Type: "tmpfs", Target: "/t", TmpfsOptions: { SizeBytes: 1 << 20, Mode: 0o1777 } }],
    tmpfs: { "/run": "rw,size=64k" },
  }, cid);
  await access(hostDir);
  assert.deepEqual(p.mounts.find((m) => m.destination === "/h")!.options, ["rbind", "rslave", "ro"]);
  assert.deepEqual(p.mounts.find((m) => m.destination === "/t")!.options, ["nodev", "nosuid", "noexec", "size=1024k", "mode=1777", "rw", "rprivate"]);
  await assert.rejects(svc.plan({ mounts: [{ Type: "bind", Source: join(root, "missing"), Target: "/m" }] }, newId()), /bind source path does not exist/);
  await assert.rejects(svc.plan({ binds: ["aa:/x", "bb:/x"] }, newId()), /Duplicate mount point/);
  await assert.rejects(svc.plan({ binds: ["vol:relative"] }, newId()), /must be absolute/);
  assert.deepEqual((await svc.list()).Volumes, [], "a failed plan leaves no volume behind");
  await svc.release(cid);

  const t = await svc.create({ Name: "tmp", DriverOpts: { type: "tmpfs", device: "tmpfs", o: "size=1m" } });
  const src = join(root, "bindsrc");
  await mkdir(src);
  await writeFile(join(src, "x"), "y");
  await svc.create({ Name: "bindlike", DriverOpts: { type: "none", device: src, o: "bind" } });
  await assert.rejects(svc.create({ Name: "bl2", DriverOpts: { type: "none", device: join(root, "nope"), o: "bind" } }), /no such file/);
  const c2 = newId();
  await svc.plan({ binds: ["tmp:/tmp", "bindlike:/b"] }, c2);
  assert.ok(await isMountPoint(t.Mountpoint));
  assert.equal(await readFile(join((await svc.inspect("bindlike")).Mountpoint, "x"), "utf8"), "y");
  await svc.release(c2);
  assert.ok(!(await isMountPoint(t.Mountpoint)));
  await svc.remove("tmp");
  await svc.remove("bindlike");
  assert.equal(await readFile(join(src, "x"), "utf8"), "y", "removing a bind-like volume keeps the host data");
});
