import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isKind } from "../errdefs/index.js";
import { logEntries, normalizeTime, parseK8sLine, readLines, tailOffset } from "./k8s-log.js";
import { generateName, validateName } from "./names.js";
import { nextBackoff, shouldRestart, validateRestartPolicy } from "./restart-policy.js";
import { humanDuration, statusText } from "./status-text.js";
import { resolveUser } from "./user.js";

test("names: validation wording and generated shape", () => {
  assert.equal(validateName("web"), "/web");
  assert.equal(validateName("/a.b-c_d"), "/a.b-c_d");
  for (const bad of ["a", "-x", "x y", "_x", "x/y"]) {
    assert.throws(() => validateName(bad), (e) => isKind(e, "invalid-argument") && (e as Error).message === `Invalid container name (${bad}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  for (let i = 0; i < 50; i++) assert.match(generateName(), /^[a-z]+_[a-z]+$/);
});

test("status text like Docker's", () => {
  const now = Date.parse("2026-01-01T00:10:00Z");
  assert.equal(statusText({ status: "running", exitCode: 0, startedAt: "2026-01-01T00:09:57Z", finishedAt: "0001-01-01T00:00:00Z" }, now), "Up 3 seconds");
  assert.equal(statusText({ status: "paused", exitCode: 0, startedAt: "2026-01-01T00:09:58Z", finishedAt: "" }, now), "Up 2 seconds (Paused)");
  assert.equal(statusText({ status: "exited", exitCode: 1, startedAt: "", finishedAt: "2026-01-01T00:08:00Z" }, now), "Exited (1) 2 minutes ago");
  assert.equal(statusText({ status: "created", exitCode: 0, startedAt: "", finishedAt: "" }, now), "Created");
  assert.equal(humanDuration(500), "Less than a second");
  assert.equal(humanDuration(60_000), "About a minute");
  assert.equal(humanDuration(3 * 3600_000), "3 hours");
});

test("k8s-file lines: parse, join partials, tail counts full entries, filters", async () => {
  const l = parseK8sLine(Buffer.from("2026-11-22T15:40:22.526308362+00:00 stdout P abc"))!;
  assert.deepEqual([l.stream, l.partial, l.content.toString()], ["stdout", true, "abc"]);
  assert.equal(parseK8sLine(Buffer.from("garbage")), null);
  assert.equal(l.time, "2026-11-22T15:40:22.526308362Z");
  assert.equal(normalizeTime("2026-11-22T17:40:22.500000000+02:00"), "2026-11-22T15:40:22.5Z");
  assert.equal(normalizeTime("2026-11-22T15:40:22.000000000+00:00"), "2026-11-22T15:40:22Z");
  const dir = await mkdtemp(join(tmpdir(), "berth-k8s-"));
  try {
    const f = join(dir, "log");
    await writeFile(f, [
      "2026-01-01T00:00:01.000000000Z stdout F one",
      "2026-01-01T00:00:02.000000000Z stdout P tw",
      "2026-01-01T00:00:02.100000000Z stderr F err",
      "2026-01-01T00:00:02.200000000Z stdout F o",
      "2026-01-01T00:00:03.000000000Z stdout F ",
      "2026-01-01T00:00:04.000000000Z stdout P tail",
      "",
    ].join("\n"));
    const all = [];
    for await (const e of logEntries(readLines(f))) all.push(`${e.stream}:${e.data.toString()}`);
    assert.deepEqual(all, ["stdout:one\n", "stderr:err\n", "stdout:two\n", "stdout:\n", "stdout:tail"]);
    const off = await tailOffset(f, 2);
    const tail = [];
    for await (const e of logEntries(readLines(f, { start: off }))) tail.push(e.data.toString());
    assert.deepEqual(tail, ["o\n", "\n", "tail"]);
    assert.equal(await tailOffset(f, 100), 0);
    const since = [];
    for await (const e of logEntries(readLines(f), { since: Date.parse("2026-01-01T00:00:02.5Z") / 1000, stderr: false })) since.push(e.data.toString());
    assert.deepEqual(since, ["\n", "tail"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("user resolution from passwd/group", () => {
  const passwd = "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n";
  const group = "root:x:0:\nwheel:x:10:app\napp:x:1000:\nnogroup:x:65534:\n";
  assert.deepEqual(resolveUser("", passwd, group), { uid: 0, gid: 0 });
  assert.deepEqual(resolveUser("app", passwd, group), { uid: 1000, gid: 1000, additionalGids: [10] });
  assert.deepEqual(resolveUser("app:nogroup", passwd, group), { uid: 1000, gid: 65534 });
  assert.deepEqual(resolveUser("4242:7", passwd, group), { uid: 4242, gid: 7 });
  assert.deepEqual(resolveUser("nobody", passwd, group, ["wheel", "5"]), { uid: 65534, gid: 65534, additionalGids: [10, 5] });
  assert.throws(() => resolveUser("ghost", passwd, group), (e) => isKind(e, "invalid-argument") && /unable to find user ghost/.test((e as Error).message));
  assert.deepEqual(resolveUser("0", null, null), { uid: 0, gid: 0 });
});

test("restart policy decisions and backoff", () => {
  assert.equal(shouldRestart({ Name: "always" }, 0, 5, false), true);
  assert.equal(shouldRestart({ Name: "always" }, 0, 5, true), false);
  assert.equal(shouldRestart({ Name: "on-failure", MaximumRetryCount: 2 }, 1, 1, false), true);
  assert.equal(shouldRestart({ Name: "on-failure", MaximumRetryCount: 2 }, 1, 2, false), false);
  assert.equal(shouldRestart({ Name: "on-failure" }, 0, 0, false), false);
  assert.equal(shouldRestart({ Name: "no" }, 1, 0, false), false);
  assert.equal(nextBackoff(0, 5), 100);
  assert.equal(nextBackoff(100, 5), 200);
  assert.equal(nextBackoff(6400, 20_000), 100);
  assert.throws(() => validateRestartPolicy({ Name: "always" }, true), (e) => isKind(e, "invalid-argument"));
  assert.throws(() => validateRestartPolicy({ Name: "always", MaximumRetryCount: 3 }, false), (e) => isKind(e, "invalid-argument"));
});

test("dropEntries streams a tar without the named entries", async () => {
  const { dropEntries, ENGINE_PLACEHOLDERS } = await import("./drop-entries.js");
  const tar = (await import("tar-stream")).default;
  const pack = tar.pack();
  pack.entry({ name: "etc/", type: "directory" });
  pack.entry({ name: "etc/hostname" }, "");
  pack.entry({ name: "etc/app.conf" }, "keep me");
  pack.entry({ name: "sbin/docker-init" }, "");
  pack.finalize();
  const out = dropEntries(pack as unknown as import("node:stream").Readable, (n) => ENGINE_PLACEHOLDERS.has(n));
  const ex = tar.extract();
  const seen: string[] = [];
  ex.on("entry", (h, s, next) => {
    let body = "";
    s.on("data", (c: unknown) => { body += String(c); });
    s.on("end", () => { seen.push(`${h.name}:${body}`); next(); });
  });
  await new Promise<void>((resolve, reject) => { ex.on("finish", resolve); ex.on("error", reject); out.pipe(ex); });
  assert.deepEqual(seen, ["etc/:", "etc/app.conf:keep me"]);
});

test("readLines of a log that never appears ends when the container stops", async () => {
  let stop!: () => void;
  const until = new Promise<void>((r) => { stop = r; });
  const lines: Buffer[] = [];
  const done = (async () => { for await (const l of readLines("/nonexistent/berth.log", { until })) lines.push(l); })();
  setTimeout(stop, 120);
  await done;
  assert.equal(lines.length, 0);
});
