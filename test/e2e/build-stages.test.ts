import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, makeBusyboxImage, type TestDaemon } from "../helpers/daemon.js";

let d: TestDaemon;
let ctx: string;
before(async () => {
  d = await startDaemon();
  await makeBusyboxImage(d);
  ctx = join(d.root, "stages-ctx");
  await mkdir(ctx);
});
after(async () => { await d?.stop(); });

const build = async (name: string, dockerfile: string, args: string[]) => {
  await writeFile(join(ctx, name), dockerfile);
  const t0 = Date.now();
  const r = await d.docker(["build", "-f", join(ctx, name), ...args, ctx], { env: { DOCKER_BUILDKIT: "0" } });
  return { ...r, ms: Date.now() - t0 };
};
const stepNumbers = (out: string) => [...out.matchAll(/^Step (\d+)\/\d+ :/gm)].map((m) => Number(m[1]));

test("independent stages build at the same time; the output stays in step order", async () => {
  // Each RUN waits for the other stage's RUN to show up in a shared cache mount: it passes only if they overlap.
  const wait = (me: string, other: string) =>
    `RUN --mount=type=cache,id=rendezvous,target=/sync touch /sync/${me}-$RUN_ID && ` +
    `for i in $(seq 300); do [ -e /sync/${other}-$RUN_ID ] && exit 0; sleep 0.1; done; echo never met ${other}; exit 1`;
  const df = [
    "FROM busybox AS a", "ARG RUN_ID", wait("a", "b"), "RUN echo from-a > /a",
    "FROM busybox AS b", "ARG RUN_ID", wait("b", "a"), "RUN echo from-b > /b",
    "FROM busybox", "COPY --from=a /a /a", "COPY --from=b /b /b", 'CMD ["cat", "/a", "/b"]', "",
  ].join("\n");
  const r = await build("Dockerfile.rendezvous", df, ["--build-arg", `RUN_ID=${Date.now()}`, "-t", "stages:1"]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual(stepNumbers(r.stdout), Array.from({ length: 12 }, (_, i) => i + 1), "steps come out in order");
  assert.ok(r.stdout.indexOf("Step 5/12 : FROM busybox AS b") > r.stdout.indexOf("Step 4/12 : RUN echo from-a"), "stage b's lines follow stage a's");
  assert.equal((await d.docker(["run", "--rm", "stages:1"])).stdout, "from-a\nfrom-b\n");
});

test("two independent slow stages (RUN sleep 1 each) take well under the serial time", async () => {
  // Serial time = the sum of the steps' own durations (what a one-at-a-time builder would take); the
  // wall time of the build must be well under it. Both stretch alike on a loaded machine.
  const df = (n: number) => [
    "FROM busybox AS a", `RUN sleep 1 && echo ${n} > /a`,
    "FROM busybox AS b", `RUN sleep 1 && echo ${n} > /b`,
    "FROM busybox", "COPY --from=a /a /a", "COPY --from=b /b /b", "",
  ].join("\n");
  const runs: { wall: number; serial: number }[] = [];
  for (let n = 0; n < 3; n++) {
    const f = join(ctx, `Dockerfile.par${n}`);
    await writeFile(f, df(n));
    const r = await d.berth(["build", "--progress=plain", "--no-cache", "-f", f, ctx]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const steps = [...r.stdout.matchAll(/^\[\d+\/\d+\] DONE (\d+(?:\.\d+)?)s$/gm)].map((m) => Number(m[1]));
    assert.equal(steps.length, 4, r.stdout);
    const wall = Number(/ in (\d+(?:\.\d+)?)s$/m.exec(r.stdout)?.[1]);
    runs.push({ wall, serial: steps.reduce((a, b) => a + b, 0) });
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[1]!;
  const wall = median(runs.map((r) => r.wall));
  const serial = median(runs.map((r) => r.serial));
  console.log(`two 1s stages: build ${wall}s, its steps one after another ${serial.toFixed(1)}s (medians of 3)`);
  assert.ok(wall <= serial - 0.7, `build ${wall}s vs serial ${serial}s`);
});

test("a failing stage cancels the stage building beside it: its error, nothing tagged, no container left", async () => {
  const df = [
    "FROM busybox AS slow", "RUN sleep 30", "FROM busybox AS bad", "RUN echo failing; exit 3",
    "FROM busybox", "COPY --from=slow /etc/hostname /x", "COPY --from=bad /etc/hostname /y", "",
  ].join("\n");
  const r = await build("Dockerfile.fail", df, ["--no-cache", "-t", "stages:bad"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /returned a non-zero code: 3/);
  assert.ok(r.ms < 20000, `ended in ${r.ms} ms, without waiting for the 30s sleep`);
  assert.equal((await d.api("GET", "/images/stages:bad/json")).status, 404);
  assert.equal((await d.docker(["ps", "-aq"])).stdout.trim(), "", "no build container left");
});
