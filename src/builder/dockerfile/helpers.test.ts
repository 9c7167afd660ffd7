import { test } from "node:test";
import assert from "node:assert/strict";
import { effectiveArgs, platformArgs, StageArgs, unusedBuildArgs } from "./build-args.js";
import { commandFor, containerArgv, imageCmdEntrypoint, runPlanFor } from "./command.js";
import { expandInstruction, EXPANDING_INSTRUCTIONS } from "./expand-instruction.js";
import { parseDockerfile } from "./parse-dockerfile.js";
import { ParseError } from "./parse-error.js";
import { resolveStage, stageDependencies, stagesNeededFor } from "./stages.js";
import type { Instruction } from "./types.js";

const instrs = (s: string): Instruction[] => parseDockerfile(s).stages.flatMap((st) => st.instructions);

test("expandInstruction substitutes what Docker substitutes", () => {
  const env = { V: "1.2", DIR: "/srv", U: "app", MODE: "0755", PORTS: "80 443", Q: "x y" };
  const [copy, envI, label, work, user, expose, vol, run, cmd, add, stop, arg] = instrs(`FROM a
COPY --chmod=$MODE --chown=\${U}:\${U} app-$V.tar "$DIR/x" \${DIR}/
ENV A=$V B="$Q" C='$V' D=\\$V
LABEL "com.x.ver"="$V" k=v\\ w
WORKDIR $DIR/\${U}
USER \${U:-root}
EXPOSE $PORTS 8080/udp
VOLUME ["$DIR/data"]
RUN echo $V
CMD echo $V
ADD --checksum=sha256:\${V} https://e.x/$V.tgz /dst/
STOPSIGNAL \${SIG:-SIGTERM}
ARG X=$V-\${U}
`);
  const x = (i: Instruction) => expandInstruction(i, env);
  const c = x(copy!);
  assert.ok(c.kind === "COPY");
  assert.deepEqual(c.sources, ["app-1.2.tar", "/srv/x"]);
  assert.equal(c.dest, "/srv/");
  assert.equal(c.chmod, "0755");
  assert.equal(c.chown, "app:app");
  const e = x(envI!);
  assert.ok(e.kind === "ENV");
  assert.deepEqual(e.pairs, [["A", "1.2"], ["B", "x y"], ["C", "$V"], ["D", "$V"]]);
  const l = x(label!);
  assert.ok(l.kind === "LABEL");
  assert.deepEqual(l.pairs, [["com.x.ver", "1.2"], ["k", "v w"]]);
  assert.equal((x(work!) as { path: string }).path, "/srv/app");
  assert.equal((x(user!) as { user: string }).user, "app");
  assert.deepEqual((x(expose!) as { ports: string[] }).ports, ["80", "443", "8080/udp"]);
  assert.deepEqual((x(vol!) as { volumes: string[] }).volumes, ["/srv/data"]);
  assert.equal((x(run!) as { command: string }).command, "echo $V", "RUN is left to the shell");
  assert.equal((x(cmd!) as { command: string }).command, "echo $V", "CMD is left to the shell");
  const a = x(add!);
  assert.ok(a.kind === "ADD");
  assert.equal(a.checksum, "sha256:1.2");
  assert.deepEqual(a.sources, ["https://e.x/1.2.tgz"]);
  assert.equal((x(stop!) as { signal: string }).signal, "SIGTERM");
  assert.deepEqual((x(arg!) as { args: unknown }).args, [{ name: "X", default: "1.2-app" }]);
  for (const k of ["RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK", "SHELL", "ONBUILD", "MAINTAINER"] as const) {
    assert.equal(EXPANDING_INSTRUCTIONS.has(k), false, k);
  }
});

test("expandInstruction: heredoc bodies, RUN mounts, unset reporting, errors with lines", () => {
  const [c1, c2, run, bad] = instrs(`FROM a
COPY <<EOF /a
v=$V
EOF
COPY <<-'EOF' /b
\tv=$V
\tEOF
RUN --mount=type=cache,target=$CACHE,id=\${ID:-def} make
WORKDIR \${NOPE:?must be set}
`);
  const env = { V: "1", CACHE: "/root/.cache" };
  const a = expandInstruction(c1!, env);
  assert.ok(a.kind === "COPY");
  assert.equal(a.heredocs[0]!.content, "v=1\n");
  const b = expandInstruction(c2!, env);
  assert.ok(b.kind === "COPY");
  assert.equal(b.heredocs[0]!.content, "v=$V\n", "quoted delimiter: literal, tabs chomped");
  const r = expandInstruction(run!, env);
  assert.ok(r.kind === "RUN");
  assert.deepEqual(r.mounts[0], { type: "cache", target: "/root/.cache", id: "def", sharing: "shared", readonly: false, mode: 0o755, uid: 0, gid: 0 });
  const unset: string[] = [];
  const used: string[] = [];
  expandInstruction(run!, env, { onUnset: (n) => unset.push(n), onUse: (n) => used.push(n) });
  assert.deepEqual(unset, ["ID"]);
  assert.deepEqual(used, ["CACHE"]);
  assert.throws(() => expandInstruction(bad!, env), (err: unknown) =>
    err instanceof ParseError && err.line === 9 && /NOPE: must be set/.test(err.message));
});

test("FROM expands with the global ARGs only", () => {
  const df = parseDockerfile("ARG REG=docker.io\nARG IMG=$REG/library/alpine\nFROM --platform=$BUILDPLATFORM ${IMG}:${TAG:-3.20}\n");
  const global = effectiveArgs(df.metaArgs, {});
  const from = expandInstruction(df.stages[0]!.from, global);
  assert.equal(from.image, "docker.io/library/alpine:3.20");
  assert.equal(from.platform, "linux/amd64");
  const g2 = effectiveArgs(df.metaArgs, { REG: "localhost:5000" });
  assert.equal(expandInstruction(df.stages[0]!.from, g2).image, "localhost:5000/library/alpine:3.20");
});

test("effectiveArgs: predefined platform ARGs, defaults, build-args, unset", () => {
  const df = parseDockerfile("ARG A=1 B\nARG C=${A}x\nFROM x\n");
  const g = effectiveArgs(df.metaArgs, { B: "bee" }, { targetPlatform: "linux/arm64/v8" });
  assert.equal(g.get("A"), "1");
  assert.equal(g.get("B"), "bee");
  assert.equal(g.get("C"), "1x");
  assert.equal(g.get("TARGETPLATFORM"), "linux/arm64/v8");
  assert.equal(g.get("TARGETARCH"), "arm64");
  assert.equal(g.get("TARGETVARIANT"), "v8");
  assert.equal(g.get("BUILDPLATFORM"), "linux/amd64");
  assert.equal(effectiveArgs(df.metaArgs, {}).has("B"), false);
  assert.deepEqual(platformArgs(), {
    TARGETPLATFORM: "linux/amd64", TARGETOS: "linux", TARGETARCH: "amd64", TARGETVARIANT: "",
    BUILDPLATFORM: "linux/amd64", BUILDOS: "linux", BUILDARCH: "amd64", BUILDVARIANT: "",
  });
});

test("StageArgs: scoping per stage, import of globals, ENV wins, proxies", () => {
  const df = parseDockerfile(`ARG VERSION=1.0 GLOBAL_ONLY=g
FROM a
ARG VERSION
ARG TARGETARCH
ARG LOCAL=l-$VERSION
ARG FROMCLI=default
ARG EMPTY
`);
  const global = effectiveArgs(df.metaArgs, {});
  const scope = new StageArgs(global, { FROMCLI: "cli", HTTP_PROXY: "http://p:3128" });
  for (const i of df.stages[0]!.instructions) if (i.kind === "ARG") scope.declare(i);
  assert.deepEqual(scope.values(), { VERSION: "1.0", TARGETARCH: "amd64", LOCAL: "l-1.0", FROMCLI: "cli" });
  assert.equal(scope.isDeclared("EMPTY"), true);
  assert.equal(scope.isDeclared("GLOBAL_ONLY"), false, "globals are not in scope without ARG");
  assert.equal(scope.expansionEnv({ VERSION: "env" }).VERSION, "env", "ENV wins over ARG");
  assert.deepEqual(scope.proxyArgs(), { HTTP_PROXY: "http://p:3128" });
  const child = scope.clone();
  child.declare({ kind: "ARG", original: "ARG Z=1", startLine: 0, endLine: 0, flags: [], args: [{ name: "Z", default: "1" }] });
  assert.equal(scope.isDeclared("Z"), false);
  assert.equal(child.values().VERSION, "1.0");
  assert.deepEqual(unusedBuildArgs(df, { FROMCLI: "x", NOPE: "y", HTTP_PROXY: "p" }), ["NOPE"]);
});

const MULTI = `ARG BASE=alpine
FROM \${BASE} AS base
RUN true
FROM base AS deps
RUN true
FROM golang AS tools
RUN true
FROM scratch AS assets
COPY x /x
FROM deps AS final
COPY --from=tools /go/bin/x /x
COPY --from=3 /x /y
RUN --mount=type=bind,from=assets,target=/a true
FROM alpine AS unrelated
COPY --from=busybox:latest /bin/sh /sh
`;

test("stagesNeededFor follows FROM, COPY --from (name or index) and mounts", () => {
  const df = parseDockerfile(MULTI);
  assert.deepEqual(stagesNeededFor(df, "final"), [0, 1, 2, 3, 4]);
  assert.deepEqual(stagesNeededFor(df), [5], "default target is the last stage; images are not stages");
  assert.deepEqual(stagesNeededFor(df, "deps"), [0, 1]);
  assert.deepEqual(stagesNeededFor(df, "TOOLS"), [2]);
  assert.deepEqual(stageDependencies(df, 4), [1, 2, 3]);
  assert.throws(() => stagesNeededFor(df, "nope"), /target stage "nope" could not be found/);
  assert.equal(resolveStage(df, "Base")?.index, 0);
  assert.equal(resolveStage(df, "3")?.name, "assets");
  assert.equal(resolveStage(df, 2)?.name, "tools");
  assert.equal(resolveStage(df, "golang"), undefined);
  const viaArg = parseDockerfile("ARG SRC=one\nFROM alpine AS one\nFROM ${SRC}\n");
  assert.deepEqual(stagesNeededFor(viaArg, undefined, { globalArgs: effectiveArgs(viaArg.metaArgs, {}) }), [0, 1]);
  const cyc = parseDockerfile("FROM a AS x\nCOPY --from=y / /\nFROM b AS y\nCOPY --from=x / /\n");
  assert.throws(() => stagesNeededFor(cyc, "y"), /circular dependency detected on stage: (x|y)/);
});

test("commandFor and runPlanFor", () => {
  const [r1, r2, r3, r4, r5, c1, e1] = instrs(`FROM a
RUN echo hi
RUN ["echo", "hi"]
RUN <<EOF
echo one
EOF
RUN <<EOF
#!/usr/bin/env python3
print(1)
EOF
RUN <<A cat > /a && <<B cat > /b
a
A
b
B
CMD echo $HOME
ENTRYPOINT ["/bin/app"]
`);
  const sh = ["/bin/sh", "-c"];
  assert.deepEqual(commandFor(sh, r1 as never), ["/bin/sh", "-c", "echo hi"]);
  assert.deepEqual(commandFor(sh, r2 as never), ["echo", "hi"]);
  assert.deepEqual(commandFor(sh, r3 as never), ["/bin/sh", "-c", "echo one\n"]);
  assert.deepEqual(runPlanFor(sh, r4 as never), {
    argv: ["/dev/pipes/EOF"], files: [{ path: "/dev/pipes/EOF", data: "#!/usr/bin/env python3\nprint(1)\n", mode: 0o755 }],
  });
  assert.deepEqual(commandFor(sh, r5 as never), ["/bin/sh", "-c", "<<A cat > /a && <<B cat > /b\na\nA\nb\nB"]);
  assert.deepEqual(commandFor(["bash", "-eo", "pipefail", "-c"], c1 as never), ["bash", "-eo", "pipefail", "-c", "echo $HOME"]);
  assert.deepEqual(commandFor(sh, e1 as never), ["/bin/app"]);
});

test("imageCmdEntrypoint follows Docker's CMD/ENTRYPOINT rules", () => {
  const base = { cmd: ["/bin/sh"], entrypoint: null };
  const run = (s: string, b: Parameters<typeof imageCmdEntrypoint>[0] = base) => {
    const r = imageCmdEntrypoint(b, instrs("FROM a\n" + s));
    return [r.entrypoint, r.cmd];
  };
  assert.deepEqual(run(""), [null, ["/bin/sh"]], "inherited");
  assert.deepEqual(run('ENTRYPOINT ["e", "p"]'), [["e", "p"], null], "ENTRYPOINT resets an inherited CMD");
  assert.deepEqual(run('CMD ["c"]\nENTRYPOINT ["e"]'), [["e"], ["c"]], "a CMD earlier in the stage survives");
  assert.deepEqual(run('ENTRYPOINT ["e"]\nCMD c q'), [["e"], ["/bin/sh", "-c", "c q"]]);
  assert.deepEqual(run("ENTRYPOINT e p"), [["/bin/sh", "-c", "e p"], null]);
  assert.deepEqual(run('SHELL ["/bin/bash", "-c"]\nCMD c'), [null, ["/bin/bash", "-c", "c"]]);
  assert.deepEqual(run('ENTRYPOINT ["e"]\nENTRYPOINT []'), [null, null], "ENTRYPOINT [] clears it");
  assert.deepEqual(run("CMD []"), [null, []]);
  assert.deepEqual(containerArgv({ entrypoint: ["e", "p"], cmd: ["c", "q"] }), ["e", "p", "c", "q"]);
  assert.deepEqual(containerArgv({ entrypoint: ["e"], cmd: ["c"] }, ["x"]), ["e", "x"]);
  assert.deepEqual(containerArgv({ entrypoint: null, cmd: null }), []);
});
