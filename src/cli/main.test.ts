import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../../bin/berth", import.meta.url));

function berth(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, BERTH_HOST: "unix:///nonexistent/berth-test.sock", DOCKER_HOST: "" } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test("flag errors exit 125 with usage, like docker", async () => {
  const r = await berth(["ps", "--xyz"]);
  assert.equal(r.code, 125);
  assert.equal(r.stderr, "unknown flag: --xyz\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information\n");
  assert.equal((await berth(["run", "--xyz", "busybox"])).code, 125);
});

test("argument-count errors exit 1 with docker's wording", async () => {
  const r = await berth(["rm"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^berth: 'berth rm' requires at least 1 argument\n\nUsage:  berth rm \[OPTIONS\] CONTAINER \[CONTAINER\.\.\.\]\n\nSee 'berth rm --help'/);
  assert.match((await berth(["ps", "x"])).stderr, /'berth ps' accepts no arguments/);
  assert.match((await berth(["rename", "a"])).stderr, /'berth rename' requires 2 arguments/);
});

test("no daemon: a clear message; exit 1, or 125 with a hint for run", async () => {
  const ps = await berth(["ps"]);
  assert.equal(ps.code, 1);
  assert.equal(ps.stderr, "Cannot connect to the Berth daemon at unix:///nonexistent/berth-test.sock. Is berthd running?\n");
  const run = await berth(["run", "busybox"]);
  assert.equal(run.code, 125);
  assert.match(run.stderr, /^berth: Cannot connect to the Berth daemon .*\n\nRun 'berth run --help' for more information\n$/);
});

test("help, version and unknown commands", async () => {
  const help = await berth(["rm", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage:  berth rm \[OPTIONS\] CONTAINER \[CONTAINER\.\.\.\]\n\nRemove one or more containers\n\nAliases:\n  berth container rm, berth container remove, berth rm\n\nOptions:\n  -f, --force /);
  assert.match((await berth(["--version"])).stdout, /^Berth version \d+\.\d+\.\d+/);
  const unknown = await berth(["frobnicate"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown command: berth frobnicate/);
  assert.equal((await berth(["login"])).code, 1);
});
