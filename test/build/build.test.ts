import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { BuildFixture } from "./build-helpers.js";

const DOCKERFILE = `FROM busybox
ARG VERSION=1
ENV GREETING=hello
WORKDIR /app
COPY a.txt ./
RUN echo "v$VERSION $GREETING" > /app/run.txt && echo ran
COPY dir/ /app/dir/
CMD ["cat", "/app/run.txt"]
`;

const files = (over: Record<string, string> = {}) => ({
  Dockerfile: DOCKERFILE, "a.txt": "A\n", "dir/one.txt": "1\n", "dir/two.txt": "2\n", ...over,
});

describe("BuildService with real containers", { concurrency: false }, () => {
  const fx = new BuildFixture();
  before(async () => { await fx.open(); });
  after(async () => { await fx.close(); });

  test("a cold build runs every step and produces a working, tagged image", async () => {
    const r = await fx.build(files(), { tags: ["app:1"] });
    assert.equal(r.error, null, r.text);
    assert.match(r.text, /^Step 1\/8 : FROM busybox\n/);
    assert.match(r.text, /Step 6\/8 : RUN echo/);
    assert.match(r.text, / ---> Running in [0-9a-f]{12}\n/);
    assert.match(r.text, /\nran\n/);
    assert.match(r.text, /Successfully built [0-9a-f]{12}\nSuccessfully tagged app:1\n$/);
    assert.ok(r.id?.startsWith("sha256:"));
    assert.ok(r.steps.slice(1).every((s) => !s.cached), "nothing cached on a cold build");
    assert.match(r.text, /Cache miss: ARG VERSION=1: no earlier build/);
    const out = await fx.runIn("app:1", ["cat", "/app/run.txt", "/app/a.txt", "/app/dir/one.txt", "/app/dir/two.txt"]);
    assert.equal(out.out, "v1 hello\nA\n1\n2\n");
    const inspect = await fx.images.inspect("app:1");
    assert.deepEqual(inspect.Config.Cmd, ["cat", "/app/run.txt"]);
    assert.equal(inspect.Config.WorkingDir, "/app");
    assert.ok(inspect.Config.Env?.includes("GREETING=hello"));
    const history = await fx.images.history("app:1");
    assert.match(history[0]!.CreatedBy, /#\(nop\)  CMD \["cat","\/app\/run.txt"\]/);
    assert.ok(history.some((h) => /^\|1 VERSION=1 \/bin\/sh -c echo/.test(h.CreatedBy)), JSON.stringify(history.map((h) => h.CreatedBy)));
    // COPY layers and the RUN layer; ENV/ARG/CMD add none.
    assert.equal(inspect.RootFS.Layers.length, 1 + 4);
    assert.deepEqual(await fx.leftovers(), { containers: 0, snapshots: [], tmp: [], mounts: [] });
  });

  test("an unchanged rebuild reuses every step", async () => {
    const first = await fx.images.inspect("app:1");
    const r = await fx.build(files(), { tags: ["app:2"] });
    assert.equal(r.error, null, r.text);
    assert.ok(r.steps.every((s) => s.cached), r.text);
    assert.equal(r.id, first.Id);
    assert.equal((r.text.match(/ ---> Using cache\n/g) ?? []).length, 7);
    assert.doesNotMatch(r.text, /Running in/);
  });

  test("changing one late COPY source rebuilds that step and nothing before it", async () => {
    const r = await fx.build(files({ "dir/two.txt": "2b\n" }), { tags: ["app:3"] });
    assert.equal(r.error, null, r.text);
    assert.deepEqual(r.steps.map((s) => s.cached), [true, true, true, true, true, true, false, false]);
    assert.match(r.text, /Cache miss: COPY dir\/ \/app\/dir\/: dir\/two.txt changed\n/);
    assert.match(r.text, /Cache miss: CMD \["cat", "\/app\/run.txt"\]: parent changed\n/);
    assert.equal((await fx.runIn("app:3", ["cat", "/app/dir/two.txt"])).out, "2b\n");
  });

  test("a changed build arg rebuilds the RUN that sees it and says so", async () => {
    const r = await fx.build(files(), { buildArgs: { VERSION: "2" } });
    assert.equal(r.error, null, r.text);
    // The ARG line itself does not change; the first step that sees the value does.
    assert.deepEqual(r.steps.map((s) => s.cached), [true, true, true, true, true, false, false, false]);
    assert.match(r.text, /Cache miss: RUN echo "v\$VERSION \$GREETING" > \/app\/run.txt && echo ran: build arg VERSION changed\n/);
    assert.match(r.text, /Cache miss: COPY dir\/ \/app\/dir\/: parent changed\n/);
    assert.equal((await fx.runIn(r.id!, ["cat", "/app/run.txt"])).out, "v2 hello\n");
  });

  test("a changed instruction is named, and the cache survives a restart", async () => {
    await fx.restart();
    const df = DOCKERFILE.replace("ENV GREETING=hello", "ENV GREETING=howdy");
    const r = await fx.build(files({ Dockerfile: df }));
    assert.equal(r.error, null, r.text);
    assert.deepEqual(r.steps.slice(0, 3).map((s) => s.cached), [true, true, false]);
    assert.match(r.text, /Cache miss: ENV GREETING=howdy: instruction changed \(was: ENV GREETING=hello\)\n/);
    const again = await fx.build(files());
    assert.ok(again.steps.every((s) => s.cached), again.text);
  });

  test("--no-cache rebuilds everything and --explain prints the key inputs", async () => {
    const r = await fx.build(files(), { noCache: true, explain: true });
    assert.equal(r.error, null, r.text);
    assert.ok(r.steps.slice(1).every((s) => !s.cached));
    assert.match(r.text, /Cache miss: .*: cache disabled \(--no-cache\)/);
    assert.match(r.text, / ---> Cache key: parent=[0-9a-f]{12} instruction="COPY file:[0-9a-f]+ in \.\/" sources=sha256:/);
  });

  test("multi-stage: --target, COPY --from, unused stages skipped", async () => {
    const df = `FROM busybox AS base
RUN echo base > /base.txt
FROM busybox AS unused
RUN exit 9
FROM base AS build
RUN echo built > /out.txt
FROM busybox
COPY --from=build /out.txt /base.txt /final/
COPY --from=0 /base.txt /copied-base.txt
`;
    const r = await fx.build({ Dockerfile: df }, { tags: ["multi:1"] });
    assert.equal(r.error, null, r.text);
    assert.doesNotMatch(r.text, /exit 9/);
    assert.equal((await fx.runIn("multi:1", ["cat", "/final/out.txt", "/final/base.txt", "/copied-base.txt"])).out, "built\nbase\nbase\n");
    const t = await fx.build({ Dockerfile: df }, { target: "build", tags: ["multi:build"] });
    assert.equal(t.error, null, t.text);
    assert.equal((await fx.runIn("multi:build", ["cat", "/out.txt"])).out, "built\n");
    const bad = await fx.build({ Dockerfile: df }, { target: "nope" });
    assert.match(bad.error ?? "", /target stage "nope" could not be found/);
  });

  test("a failing RUN ends the build with its exit code and output; nothing tagged, nothing left behind", async () => {
    const df = "FROM busybox\nRUN echo about to fail && echo oops >&2 && exit 3\n";
    const r = await fx.build({ Dockerfile: df }, { tags: ["fail:1"] });
    assert.equal(r.error, "The command '/bin/sh -c echo about to fail && echo oops >&2 && exit 3' returned a non-zero code: 3");
    assert.equal(r.code, 3);
    assert.match(r.text, /about to fail\n/);
    assert.match(r.text, /\u001b\[91moops\n\u001b\[0m/);
    await assert.rejects(fx.images.inspect("fail:1"), /No such image/);
    assert.deepEqual(await fx.leftovers(), { containers: 0, snapshots: [], tmp: [], mounts: [] });
  });

  test("a missing COPY source, a syntax error and a context that is not a tar are clear errors", async () => {
    const missing = await fx.build({ Dockerfile: "FROM busybox\nCOPY nope.txt /x\n" });
    assert.equal(missing.error, "COPY failed: file not found in build context or excluded by .dockerignore: stat nope.txt: file does not exist");
    const syntax = await fx.build({ Dockerfile: "FROM busybox\nFOO bar\n" });
    assert.match(syntax.error ?? "", /line 2: unknown instruction: FOO/i);
    const notTar = await fx.build(Readable.from([Buffer.from("this is not a tar archive, just some text that is long enough ".repeat(20))]));
    assert.match(notTar.error ?? "", /tar/);
    const noDockerfile = await fx.build({ "a.txt": "x" });
    assert.equal(noDockerfile.error, "Cannot locate specified Dockerfile: Dockerfile");
    assert.deepEqual(await fx.leftovers(), { containers: 0, snapshots: [], tmp: [], mounts: [] });
  });

  test(".dockerignore excludes files from COPY and from the cache key", async () => {
    const ctx = { Dockerfile: "FROM busybox\nCOPY . /ctx/\n", ".dockerignore": "*.log\n!keep.log\n", "a.txt": "a", "x.log": "x", "keep.log": "k" };
    const r = await fx.build(ctx, { tags: ["ign:1"] });
    assert.equal(r.error, null, r.text);
    const out = await fx.runIn("ign:1", ["ls", "-a", "/ctx"]);
    assert.deepEqual(out.out.split("\n").filter(Boolean).sort(), [".", "..", ".dockerignore", "Dockerfile", "a.txt", "keep.log"]);
    const again = await fx.build({ ...ctx, "x.log": "changed" });
    assert.ok(again.steps.every((s) => s.cached), again.text);
  });

  test("steps unpack only the context files they read, and each gets exactly its own", async () => {
    const df = [
      "FROM busybox", "COPY dir/one.txt /one/", "COPY dir/ /all/",
      "RUN --mount=type=bind,source=a.txt,target=/m.txt cat /m.txt > /bound.txt", "COPY . /ctx/", "",
    ].join("\n");
    const ctx = { Dockerfile: df, "a.txt": "A\n", "dir/one.txt": "1\n", "dir/sub/two.txt": "2\n", "other.txt": "O\n" };
    const r = await fx.build(ctx, { tags: ["parts:1"] });
    assert.equal(r.error, null, r.text);
    const ls = async (dir: string) => (await fx.runIn("parts:1", ["find", dir])).out.split("\n").filter(Boolean).sort();
    assert.deepEqual(await ls("/one"), ["/one", "/one/one.txt"]);
    assert.deepEqual(await ls("/all"), ["/all", "/all/one.txt", "/all/sub", "/all/sub/two.txt"]);
    assert.deepEqual(await ls("/ctx"), ["/ctx", "/ctx/Dockerfile", "/ctx/a.txt", "/ctx/dir", "/ctx/dir/one.txt", "/ctx/dir/sub", "/ctx/dir/sub/two.txt", "/ctx/other.txt"]);
    assert.equal((await fx.runIn("parts:1", ["cat", "/bound.txt", "/all/sub/two.txt"])).out, "A\n2\n");
    const again = await fx.build({ ...ctx, "dir/sub/two.txt": "22\n" }, { tags: ["parts:2"] });
    assert.deepEqual(again.steps.filter((s) => !s.cached).map((s) => s.step), [3, 4, 5], again.text);
    assert.equal((await fx.runIn("parts:2", ["cat", "/all/sub/two.txt", "/ctx/dir/sub/two.txt"])).out, "22\n22\n");
    assert.deepEqual(await fx.leftovers(), { containers: 0, snapshots: [], tmp: [], mounts: [] });
  });

  test("stopping the stream mid-RUN cancels the build and removes its container", async () => {
    const it = fx.builder.build((await import("./build-helpers.js")).contextTar({ Dockerfile: "FROM busybox\nRUN sleep 30\n" }), { tags: ["cancel:1"] });
    const t0 = Date.now();
    for await (const m of it) if (m.stream?.includes("Running in")) break;
    assert.ok(Date.now() - t0 < 20_000);
    await assert.rejects(fx.images.inspect("cancel:1"), /No such image/);
    assert.deepEqual(await fx.leftovers(), { containers: 0, snapshots: [], tmp: [], mounts: [] });
  });

  test("builder prune drops the records; df lists them", async () => {
    const items = await fx.builder.df();
    assert.ok(items.length > 0);
    assert.ok(items.every((i) => i.Type === "regular" && typeof i.Description === "string"));
    const p = await fx.builder.prune({ all: true });
    assert.equal(p.CachesDeleted.length, items.length);
    assert.deepEqual(await fx.builder.df(), []);
    const r = await fx.build(files());
    assert.ok(r.steps.slice(1).every((s) => !s.cached));
    assert.match(r.text, /Cache miss: ARG VERSION=1: no earlier build/);
  });
});
