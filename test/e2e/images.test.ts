import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import tar from "tar-stream";
import { startDaemon, makeBusyboxImage, type TestDaemon } from "../helpers/daemon.js";

let d: TestDaemon;
let imageId: string;

before(async () => {
  d = await startDaemon();
  imageId = await makeBusyboxImage(d);
});
after(async () => { await d?.stop(); });

test("import makes busybox:latest with the --change config", async () => {
  assert.match(imageId, /^sha256:[0-9a-f]{64}$/);
  const r = await d.docker(["image", "inspect", "busybox"]);
  assert.equal(r.code, 0, r.stderr);
  const [img] = JSON.parse(r.stdout);
  assert.equal(img.Id, imageId);
  assert.deepEqual(img.RepoTags, ["busybox:latest"]);
  assert.deepEqual(img.Config.Cmd, ["sh"]);
  assert.equal(img.RootFS.Type, "layers");
  assert.equal(img.RootFS.Layers.length, 1);
  assert.ok(img.Size > 1_000_000);
});

test("images lists, filters and formats", async () => {
  const r = await d.docker(["images"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE/);
  assert.match(r.stdout, /busybox\s+latest\s+[0-9a-f]{12}/);
  const q = await d.docker(["images", "-q"]);
  assert.equal(q.stdout.trim(), imageId.slice(7, 19));
  const f = await d.docker(["images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=busy*"]);
  assert.equal(f.stdout.trim(), "busybox:latest");
  const none = await d.docker(["images", "-q", "--filter", "dangling=true"]);
  assert.equal(none.stdout.trim(), "");
});

test("tag, untag and rmi follow Docker's rules", async () => {
  assert.equal((await d.docker(["tag", "busybox", "example/bb:v1"])).code, 0);
  assert.equal((await d.docker(["tag", "busybox", "bb2"])).code, 0);
  const byId = await d.docker(["rmi", imageId.slice(7, 19)]);
  assert.notEqual(byId.code, 0);
  assert.match(byId.stderr, /referenced in multiple repositories/);
  const untag = await d.docker(["rmi", "example/bb:v1"]);
  assert.equal(untag.code, 0, untag.stderr);
  assert.equal(untag.stdout.trim(), "Untagged: example/bb:v1");
  assert.equal((await d.docker(["rmi", "bb2"])).stdout.trim(), "Untagged: bb2:latest");
  const bad = await d.docker(["tag", "busybox", "Bad:Name"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid reference format/);
  const missing = await d.docker(["rmi", "nosuch:image"]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /No such image: nosuch:image/);
});

test("rmi refuses an image a container uses, -f untags it", async () => {
  const tarPath = join(d.root, "busybox.tar");
  const imp = await d.docker(["import", "--change", 'CMD ["true"]', tarPath, "solo:1"]);
  assert.equal(imp.code, 0, imp.stderr);
  const soloId = imp.stdout.trim();
  const c = await d.docker(["create", "--name", "user-of-solo", "solo:1"]);
  assert.equal(c.code, 0, c.stderr);
  const r = await d.docker(["rmi", "solo:1"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /unable to remove repository reference "solo:1" \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}/);
  const f = await d.docker(["rmi", "-f", "solo:1"]);
  assert.equal(f.code, 0, f.stderr);
  // Docker ignores a stopped container's claim under -f: the image is untagged and deleted.
  assert.match(f.stdout, /Untagged: solo:1/);
  assert.match(f.stdout, new RegExp(`Deleted: ${soloId}`));
  assert.equal((await d.api("GET", `/images/${soloId}/json`)).status, 404);
  assert.equal((await d.docker(["start", "-a", "user-of-solo"])).code, 0, "the container still runs on its layers");
  assert.equal((await d.docker(["rm", "user-of-solo"])).code, 0);
});

test("history shows the import step", async () => {
  const r = await d.docker(["history", "--no-trunc", "--format", "{{.ID}} {{.Comment}}", "busybox"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${imageId}`));
});

test("save and load round-trip several images through one archive", async () => {
  await d.docker(["tag", "busybox", "copy:one"]);
  const archive = join(d.root, "images.tar");
  const s = await d.docker(["save", "-o", archive, "busybox:latest", "copy:one"]);
  assert.equal(s.code, 0, s.stderr);
  assert.equal((await d.docker(["rmi", "copy:one"])).code, 0);
  const l = await d.docker(["load", "-i", archive]);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /Loaded image: copy:one/);
  const ids = await d.docker(["images", "--no-trunc", "-q", "copy:one"]);
  assert.equal(ids.stdout.trim(), imageId);
});

test("a layer that escapes its root is refused and leaves no image", async () => {
  const evil = join(d.root, "evil.tar");
  const pack = tar.pack();
  pack.entry({ name: "ok.txt" }, "fine");
  pack.entry({ name: "../../escaped.txt" }, "bad");
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  await writeFile(evil, Buffer.concat(chunks));
  const before = (await d.docker(["images", "-aq"])).stdout;
  const r = await d.docker(["import", evil, "evil:1"]);
  assert.notEqual(r.code, 0);
  assert.equal((await d.docker(["images", "-aq"])).stdout, before);
  const leaked = await d.api("GET", "/images/evil:1/json");
  assert.equal(leaked.status, 404);
});

test("image prune removes dangling images only", async () => {
  const r = await d.docker(["image", "prune", "-f"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await d.docker(["image", "inspect", "busybox"])).code, 0);
});

test("system df reports images", async () => {
  const r = await d.docker(["system", "df"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE/);
  assert.match(r.stdout, /Images\s+\d+/);
});
