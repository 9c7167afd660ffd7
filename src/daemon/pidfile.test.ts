import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile, access } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acquirePidfile } from "./pidfile.js";

test("a pidfile naming a live berthd refuses; a stale one is replaced; release removes it", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-pid-"));
  // A stand-in process whose command line says berthd.
  const other = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", "berthd"], { stdio: "ignore" });
  t.after(async () => {
    other.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });
  const path = join(dir, "berthd.pid");
  await writeFile(path, `${other.pid}\n`);
  await new Promise((r) => setTimeout(r, 50));
  await assert.rejects(acquirePidfile(path, dir), { message: `berthd is already running on ${dir} (pid ${other.pid})` });

  await writeFile(path, "999999999\n");
  const release = await acquirePidfile(path, dir);
  assert.equal((await readFile(path, "utf8")).trim(), String(process.pid));
  await release();
  await assert.rejects(access(path));
});
