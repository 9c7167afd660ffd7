import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDockerfile } from "./parse-dockerfile.js";
import { ParseError } from "./parse-error.js";
import type { Instruction } from "./types.js";

const df = (s: string) => parseDockerfile(s);
const instrs = (s: string): Instruction[] => df(s).stages.flatMap((st) => st.instructions);
const only = (s: string): Instruction => instrs(s)[0]!;

function parseFails(text: string, line: number, re: RegExp): void {
  assert.throws(() => parseDockerfile(text), (err: unknown) => {
    assert.ok(err instanceof ParseError, `expected ParseError, got ${String(err)}`);
    assert.equal(err.line, line, `line of ${err.message}`);
    assert.match(err.message, re);
    assert.equal(err.kind, "invalid-argument");
    return true;
  });
}

test("multi-stage Go build", () => {
  const d = df(`# syntax=docker/dockerfile:1.7
ARG GO_VERSION=1.22

FROM --platform=$BUILDPLATFORM golang:\${GO_VERSION}-alpine AS Build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \\
    --mount=type=bind,source=go.sum,target=go.sum \\
    go mod download -x
COPY . .
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/root/.cache/go-build \\
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/server ./cmd/server

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/server /server
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/server"]
`);
  assert.equal(d.directives.syntax, "docker/dockerfile:1.7");
  assert.equal(d.metaArgs.length, 1);
  assert.deepEqual(d.metaArgs[0]!.args, [{ name: "GO_VERSION", default: "1.22" }]);
  assert.equal(d.stages.length, 2);
  const [build, final] = d.stages;
  assert.equal(build!.name, "build", "stage names are lower-cased");
  assert.equal(build!.from.image, "golang:${GO_VERSION}-alpine");
  assert.equal(build!.from.platform, "$BUILDPLATFORM");
  assert.equal(build!.from.startLine, 4);
  const run = build!.instructions[2]!;
  assert.equal(run.kind, "RUN");
  if (run.kind !== "RUN") return;
  assert.equal(run.startLine, 7);
  assert.equal(run.endLine, 9);
  assert.equal(run.form, "shell");
  assert.equal(run.command, "go mod download -x");
  assert.deepEqual(run.mounts.map((m) => m.type), ["cache", "bind"]);
  assert.deepEqual(run.mounts[1], { type: "bind", target: "go.sum", source: "go.sum", readonly: true });
  assert.equal(final!.name, undefined);
  assert.equal(final!.index, 1);
  const copy = final!.instructions[0]!;
  assert.ok(copy.kind === "COPY");
  assert.equal(copy.from, "build");
  assert.deepEqual(copy.sources, ["/out/server"]);
  assert.equal(copy.dest, "/server");
  const ep = final!.instructions[3]!;
  assert.ok(ep.kind === "ENTRYPOINT");
  assert.equal(ep.form, "exec");
  assert.deepEqual(ep.command, ["/server"]);
});

test("Node and Python shapes", () => {
  const d = df(`FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json* ./
RUN npm ci --omit=dev

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1
WORKDIR /app
COPY --chown=app:app --chmod=0644 requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY --from=deps /app/node_modules ./node_modules
LABEL org.opencontainers.image.title="my app" version=1.0
CMD ["python", "-m", "app"]
`);
  assert.equal(d.stages.length, 2);
  const env = d.stages[1]!.instructions[0]!;
  assert.ok(env.kind === "ENV");
  assert.deepEqual(env.pairs, [["PYTHONDONTWRITEBYTECODE", "1"], ["PYTHONUNBUFFERED", "1"]]);
  assert.equal(env.startLine, 7);
  assert.equal(env.endLine, 8);
  const copy = d.stages[1]!.instructions[2]!;
  assert.ok(copy.kind === "COPY");
  assert.equal(copy.chown, "app:app");
  assert.equal(copy.chmod, "0644");
  const label = d.stages[1]!.instructions[5]!;
  assert.ok(label.kind === "LABEL");
  assert.deepEqual(label.pairs, [["org.opencontainers.image.title", '"my app"'], ["version", "1.0"]]);
});

test("comments and blank lines inside continuations, original text", () => {
  const i = only(`FROM alpine
RUN apk add \\
  # a comment inside
    curl \\

    git
`);
  assert.ok(i.kind === "RUN");
  assert.equal(i.command, "apk add     curl     git");
  assert.equal(i.startLine, 2);
  assert.equal(i.endLine, 6);
  assert.equal(i.original, "RUN apk add     curl     git");
  const w = df(`FROM alpine
RUN a \\

  b
`).warnings;
  assert.equal(w.length, 1);
  assert.match(w[0]!.message, /Empty continuation line/);
});

test("a # in the middle of a line is literal; leading whitespace is ignored", () => {
  const i = only("FROM a\n   RUN echo hi # not a comment\n");
  assert.ok(i.kind === "RUN");
  assert.equal(i.command, "echo hi # not a comment");
  assert.equal(i.startLine, 2);
});

test("escaped escape char at end of line is not a continuation", () => {
  const is = instrs("FROM a\nRUN echo a\\\\\nRUN echo b\n");
  assert.equal(is.length, 2);
});

test("escape=` (Windows style)", () => {
  const d = df("# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN dir c:\\ `\n  && echo done\nCOPY test.txt c:\\data\\\n");
  assert.equal(d.escape, "`");
  assert.equal(d.directives.escape, "`");
  const [run, copy] = d.stages[0]!.instructions;
  assert.ok(run!.kind === "RUN");
  assert.equal(run.command, "dir c:\\   && echo done");
  assert.ok(copy!.kind === "COPY");
  assert.equal(copy.dest, "c:\\data\\");
});

test("parser directives: case-insensitive keys, only at the top, whitespace allowed", () => {
  let d = df("#  ESCAPE = `\n# Syntax=docker/dockerfile:1\nFROM a\n");
  assert.equal(d.escape, "`");
  assert.equal(d.directives.syntax, "docker/dockerfile:1");
  d = df("# a comment\n# escape=`\nFROM a\n");
  assert.equal(d.escape, "\\", "a directive after a comment is a comment");
  d = df("\n# escape=`\nFROM a\n");
  assert.equal(d.escape, "\\", "a directive after a blank line is a comment");
  d = df("# unknown=x\n# escape=`\nFROM a\n");
  assert.equal(d.escape, "\\", "an unknown directive ends the block");
  d = df("FROM a\n# escape=`\nRUN x\n");
  assert.equal(d.escape, "\\");
  d = df("# check=skip=JSONArgsRecommended,StageNameCasing;error=true\nFROM a\n");
  assert.deepEqual(d.directives.checks, { skip: ["JSONArgsRecommended", "StageNameCasing"], error: true });
  d = df("# check=skip=all\nFROM a\n");
  assert.deepEqual(d.directives.checks, { skip: "all", error: false });
  parseFails("# escape=`\n# escape=\\\nFROM a\n", 2, /only one escape parser directive can be used/);
  parseFails("# escape=x\nFROM a\n", 1, /invalid escape token 'x' does not match ` or \\/);
});

test("BOM and CRLF line endings", () => {
  const d = df("\uFEFF# escape=`\r\nFROM a\r\nRUN echo `\r\n  hi\r\n");
  assert.equal(d.escape, "`");
  const run = d.stages[0]!.instructions[0]!;
  assert.ok(run.kind === "RUN");
  assert.equal(run.command, "echo   hi");
});

test("JSON (exec) vs shell forms", () => {
  const forms = instrs(`FROM a
CMD ["a", 'b']
CMD ["a", "b"]
CMD [ "a" ]  
CMD ["unterminated"
CMD echo "[x]"
ENTRYPOINT []
RUN ["sh", "-c", "echo \\"q\\""]
CMD ["c:\\\\path"]
`);
  const view = forms.map((i) => (i.kind === "CMD" || i.kind === "ENTRYPOINT" || i.kind === "RUN" ? [i.form, i.command] : null));
  assert.deepEqual(view, [
    ["shell", `["a", 'b']`],
    ["exec", ["a", "b"]],
    ["exec", ["a"]],
    ["shell", `["unterminated"`],
    ["shell", `echo "[x]"`],
    ["exec", []],
    ["exec", ["sh", "-c", 'echo "q"']],
    ["exec", ["c:\\path"]],
  ]);
  parseFails('FROM a\nCMD ["a", 1]\n', 2, /arrays must be comprised of strings only/);
});

test("ENV: new and legacy forms", () => {
  const is = instrs(`FROM a
ENV A=1 B="x y" C=a\\ b D='$x'
ENV LEGACY value with  spaces
ENV E=
ENV F "quoted legacy"
`);
  const pairs = is.map((i) => (i.kind === "ENV" ? i.pairs : null));
  assert.deepEqual(pairs, [
    [["A", "1"], ["B", '"x y"'], ["C", "a\\ b"], ["D", "'$x'"]],
    [["LEGACY", "value with  spaces"]],
    [["E", ""]],
    [["F", '"quoted legacy"']],
  ]);
  parseFails("FROM a\nENV ONLYKEY\n", 2, /ENV must have two arguments/);
  parseFails("FROM a\nENV A=1 B\n", 2, /can't find = in "B"/);
  parseFails("FROM a\nENV =x\n", 2, /ENV names can not be blank/);
});

test("ARG forms", () => {
  const d = df(`ARG A B=2 C="three"
FROM a
ARG A
ARG D=
`);
  assert.deepEqual(d.metaArgs[0]!.args, [{ name: "A" }, { name: "B", default: "2" }, { name: "C", default: '"three"' }]);
  const [a, dd] = d.stages[0]!.instructions;
  assert.ok(a!.kind === "ARG" && dd!.kind === "ARG");
  assert.deepEqual(a.args, [{ name: "A" }]);
  assert.deepEqual(dd.args, [{ name: "D", default: "" }]);
});

test("heredocs: RUN, COPY, several, <<-, quoted delimiters, line numbers", () => {
  const d = df(`FROM alpine
RUN <<EOF
apk add curl
echo $HOME
EOF
COPY <<-"END" /etc/motd
\t\tHello $USER
\tEND
RUN <<A cat > /a && <<B cat > /b
a body
A
b body
B
RUN cat <<'X' > /x
literal $x
X
RUN echo "<<NOTHEREDOC"
COPY <<one <<two /dir/
1
one
2
two
`);
  const [r1, c1, r2, r3, r4, c2] = d.stages[0]!.instructions;
  assert.ok(r1!.kind === "RUN");
  assert.equal(r1.command, "<<EOF");
  assert.deepEqual(r1.heredocs, [{ name: "EOF", content: "apk add curl\necho $HOME\n", chomp: false, expand: true, fd: 0 }]);
  assert.equal(r1.startLine, 2);
  assert.equal(r1.endLine, 5);
  assert.ok(c1!.kind === "COPY");
  assert.equal(c1.dest, "/etc/motd");
  assert.deepEqual(c1.sources, []);
  assert.deepEqual(c1.heredocs, [{ name: "END", content: "\t\tHello $USER\n", chomp: true, expand: false, fd: 0 }]);
  assert.equal(c1.startLine, 6);
  assert.equal(c1.endLine, 8);
  assert.ok(r2!.kind === "RUN");
  assert.deepEqual(r2.heredocs.map((h) => [h.name, h.content]), [["A", "a body\n"], ["B", "b body\n"]]);
  assert.equal(r2.endLine, 13);
  assert.ok(r3!.kind === "RUN");
  assert.equal(r3.heredocs[0]!.expand, false);
  assert.ok(r4!.kind === "RUN");
  assert.deepEqual(r4.heredocs, []);
  assert.ok(c2!.kind === "COPY");
  assert.deepEqual(c2.heredocs.map((h) => [h.name, h.content]), [["one", "1\n"], ["two", "2\n"]]);
  assert.equal(c2.dest, "/dir/");
  parseFails("FROM a\nRUN <<EOF\necho\n", 2, /unterminated heredoc/);
  parseFails("FROM a\nCOPY x <<EOF\nEOF\n", 2, /COPY cannot accept a heredoc as a destination/);
});

test("exec-form RUN with << is not a heredoc", () => {
  const r = only('FROM a\nRUN ["sh", "-c", "cat <<EOF"]\nRUN true\n');
  assert.ok(r.kind === "RUN");
  assert.deepEqual(r.heredocs, []);
  assert.equal(instrs('FROM a\nRUN ["sh", "-c", "cat <<EOF"]\nRUN true\n').length, 2);
});

test("instruction keywords are case-insensitive", () => {
  const d = df("from alpine as Base\nrun echo\ncopy a b\n");
  assert.equal(d.stages[0]!.name, "base");
  assert.deepEqual(d.stages[0]!.instructions.map((i) => i.kind), ["RUN", "COPY"]);
});

test("COPY/ADD flags and JSON form", () => {
  const [c, a, j] = instrs(`FROM a
COPY --link --parents --exclude=*.md --exclude=tmp/ --from=0 ./x/./y/*.txt /out/
ADD --checksum=sha256:abc --keep-git-dir=true --unpack=false --chmod=755 https://example.com/a.tgz /a
COPY ["a b", "c d/"]
`);
  assert.ok(c!.kind === "COPY");
  assert.equal(c.link, true);
  assert.equal(c.parents, true);
  assert.deepEqual(c.exclude, ["*.md", "tmp/"]);
  assert.equal(c.from, "0");
  assert.ok(a!.kind === "ADD");
  assert.equal(a.checksum, "sha256:abc");
  assert.equal(a.keepGitDir, true);
  assert.equal(a.unpack, false);
  assert.equal(a.chmod, "755");
  assert.ok(j!.kind === "COPY");
  assert.deepEqual(j.sources, ["a b"]);
  assert.equal(j.dest, "c d/");
  assert.equal(j.json, true);
  parseFails("FROM a\nCOPY onlyone\n", 2, /COPY requires at least two arguments/);
  parseFails("FROM a\nCOPY --form=x a b\n", 2, /unknown flag: form \(did you mean from\?\)/);
  parseFails("FROM a\nCOPY --from=a --from=b a b\n", 2, /duplicate flag specified: from/);
  parseFails("FROM a\nCOPY --link=maybe a b\n", 2, /expecting boolean value for flag link, not: maybe/);
  parseFails("FROM a\nCOPY --chown a b\n", 2, /missing a value on flag: chown/);
  parseFails("FROM a\nADD --from=x a b\n", 2, /unknown flag: from/);
});

test("RUN flags and typed mounts", () => {
  const r = only(`FROM a
RUN --network=none --security=insecure \\
    --mount=type=cache,id=npm,target=/root/.npm,sharing=locked,mode=0700,uid=1000 \\
    --mount=type=tmpfs,target=/tmp,size=64m \\
    --mount=type=secret,id=aws,target=/root/.aws/credentials,required \\
    --mount=type=secret,env=TOKEN,id=tok \\
    --mount=type=ssh \\
    --mount=type=ssh,id=gh \\
    --mount=from=builder,source=/out,target=/in,rw \\
    make
`);
  assert.ok(r.kind === "RUN");
  assert.equal(r.network, "none");
  assert.equal(r.security, "insecure");
  assert.deepEqual(r.mounts, [
    { type: "cache", target: "/root/.npm", id: "npm", sharing: "locked", readonly: false, mode: 0o700, uid: 1000, gid: 0 },
    { type: "tmpfs", target: "/tmp", size: 64 * 1024 * 1024 },
    { type: "secret", id: "aws", target: "/root/.aws/credentials", required: true, mode: 0o400, uid: 0, gid: 0 },
    { type: "secret", id: "tok", env: "TOKEN", required: false, mode: 0o400, uid: 0, gid: 0 },
    { type: "ssh", id: "default", target: "/run/buildkit/ssh_agent.0", required: false, mode: 0o600, uid: 0, gid: 0 },
    { type: "ssh", id: "gh", target: "/run/buildkit/ssh_agent.1", required: false, mode: 0o600, uid: 0, gid: 0 },
    { type: "bind", target: "/in", source: "/out", from: "builder", readonly: false },
  ]);
  const s = only("FROM a\nRUN --mount=type=secret,target=/run/secrets/npmrc cat /run/secrets/npmrc\n");
  assert.ok(s.kind === "RUN");
  assert.equal((s.mounts[0] as { id: string }).id, "npmrc");
  parseFails("FROM a\nRUN --mount=type=nfs,target=/x true\n", 2, /unsupported mount type "nfs"/);
  parseFails("FROM a\nRUN --mount=type=bind,target=/x,size=1 true\n", 2, /unexpected key 'size' for mount type 'bind'/);
  parseFails("FROM a\nRUN --mount=type=cache,target=/x,bogus=1 true\n", 2, /unexpected key 'bogus'/);
  parseFails("FROM a\nRUN --mount=type=cache true\n", 2, /mount target/);
  parseFails("FROM a\nRUN --mount=type=cache,target=/x,mode=999 true\n", 2, /invalid value 999 for mode/);
  parseFails("FROM a\nRUN --mount=from=$X,target=/x true\n", 2, /doesn't support variable expansion/);
  parseFails("FROM a\nRUN --network=bridge true\n", 2, /unsupported network mode "bridge"/);
});

test("HEALTHCHECK", () => {
  const [h1, h2, h3] = instrs(`FROM a
HEALTHCHECK --interval=1m30s --timeout=10s --start-period=5s --start-interval=2s --retries=4 CMD ["curl", "-f", "http://localhost/"]
HEALTHCHECK CMD curl -f http://localhost/ || exit 1
HEALTHCHECK NONE
`);
  assert.ok(h1!.kind === "HEALTHCHECK" && h2!.kind === "HEALTHCHECK" && h3!.kind === "HEALTHCHECK");
  assert.deepEqual(h1.health, {
    test: ["CMD", "curl", "-f", "http://localhost/"], interval: 90e9, timeout: 10e9, startPeriod: 5e9, startInterval: 2e9, retries: 4,
  });
  assert.deepEqual(h2.health.test, ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]);
  assert.equal(h2.health.interval, 0);
  assert.equal(h3.none, true);
  assert.deepEqual(h3.health.test, ["NONE"]);
  parseFails("FROM a\nHEALTHCHECK NONE x\n", 2, /HEALTHCHECK NONE takes no arguments/);
  parseFails("FROM a\nHEALTHCHECK CMD\n", 2, /Missing command after HEALTHCHECK CMD/);
  parseFails("FROM a\nHEALTHCHECK RUN x\n", 2, /Unknown type "RUN" in HEALTHCHECK \(try CMD\)/);
  parseFails("FROM a\nHEALTHCHECK --interval=1us CMD x\n", 2, /Interval "interval" cannot be less than 1ms/);
  parseFails("FROM a\nHEALTHCHECK --retries=-1 CMD x\n", 2, /--retries cannot be negative \(-1\)/);
  parseFails("FROM a\nHEALTHCHECK --interval=abc CMD x\n", 2, /time: invalid duration "abc"/);
});

test("ONBUILD, SHELL, VOLUME, EXPOSE, STOPSIGNAL, USER, WORKDIR, MAINTAINER", () => {
  const is = instrs(`FROM a
ONBUILD RUN --mount=type=cache,target=/c make
ONBUILD COPY <<EOF /x
body
EOF
SHELL ["powershell", "-command"]
VOLUME ["/data", "/logs"]
VOLUME /a /b
EXPOSE 8080/udp 80 443/tcp
STOPSIGNAL SIGQUIT
USER app:app
WORKDIR /srv/my app
MAINTAINER Jane Doe <jane@example.com>
`);
  const [o1, o2, sh, v1, v2, ex, ss, u, w, m] = is;
  assert.ok(o1!.kind === "ONBUILD");
  assert.equal(o1.inner.kind, "RUN");
  assert.equal(o1.expression, "RUN --mount=type=cache,target=/c make");
  assert.ok(o1.inner.kind === "RUN" && o1.inner.mounts[0]!.type === "cache");
  assert.ok(o2!.kind === "ONBUILD");
  assert.equal(o2.expression, "COPY <<EOF /x\nbody\nEOF");
  assert.ok(o2.inner.kind === "COPY");
  assert.equal(o2.inner.heredocs[0]!.content, "body\n");
  assert.equal(o2.endLine, 5);
  assert.ok(sh!.kind === "SHELL");
  assert.deepEqual(sh.shell, ["powershell", "-command"]);
  assert.ok(v1!.kind === "VOLUME" && v2!.kind === "VOLUME");
  assert.deepEqual(v1.volumes, ["/data", "/logs"]);
  assert.deepEqual(v2.volumes, ["/a", "/b"]);
  assert.ok(ex!.kind === "EXPOSE");
  assert.deepEqual(ex.ports, ["443/tcp", "80", "8080/udp"]);
  assert.ok(ss!.kind === "STOPSIGNAL" && ss.signal === "SIGQUIT");
  assert.ok(u!.kind === "USER" && u.user === "app:app");
  assert.ok(w!.kind === "WORKDIR" && w.path === "/srv/my app");
  assert.ok(m!.kind === "MAINTAINER" && m.maintainer === "Jane Doe <jane@example.com>");
  parseFails("FROM a\nONBUILD ONBUILD RUN x\n", 2, /Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed/);
  parseFails("FROM a\nONBUILD FROM b\n", 2, /FROM isn't allowed as an ONBUILD trigger/);
  parseFails("FROM a\nONBUILD MAINTAINER b\n", 2, /MAINTAINER isn't allowed as an ONBUILD trigger/);
  parseFails("FROM a\nSHELL /bin/bash -c\n", 2, /SHELL requires the arguments to be in JSON form/);
  parseFails("FROM a\nSHELL []\n", 2, /SHELL requires at least one argument/);
  parseFails('FROM a\nVOLUME [""]\n', 2, /VOLUME specified can not be an empty string/);
  parseFails("FROM a\nWORKDIR\n", 2, /WORKDIR requires exactly one argument/);
  parseFails("FROM a\nEXPOSE\n", 2, /EXPOSE requires at least one argument/);
});

test("errors carry the right line and Docker's wording", () => {
  parseFails("FROM a\n\n# c\nXYZZY bar\n", 4, /^dockerfile parse error on line 4: unknown instruction: XYZZY$/);
  parseFails("FROM a\nFOO bar\n", 2, /^dockerfile parse error on line 2: unknown instruction: FOO \(did you mean FROM\?\)$/);
  parseFails("FROM a\nrunn x\n", 2, /unknown instruction: runn \(did you mean run\?\)/);
  parseFails("FROM a\nRUNN echo\n", 2, /unknown instruction: RUNN \(did you mean RUN\?\)/);
  parseFails("FROM a\nRUN a \\\n  b\nCOPPY x y\n", 4, /unknown instruction: COPPY \(did you mean COPY\?\)/);
  parseFails("RUN echo\nFROM a\n", 1, /no build stage in current context/);
  parseFails("FROM a b\n", 1, /FROM requires either one or three arguments/);
  parseFails("FROM a AS 1st\n", 1, /invalid name for build stage: "1st", name can't start with a number or contain symbols/);
  parseFails("FROM a AS x\nFROM b AS X\n", 2, /duplicate stage name "x"/);
  parseFails("\n# only comments\n\n", 3, /file with no instructions/);
  parseFails("FROM a\nENV --bogus=1 A=b\n", 2, /unknown flag: bogus/);
  assert.throws(() => parseDockerfile("ARG A=1\n"), /dockerfile contains no stages to build/);
  try {
    parseDockerfile("FROM a\nXYZZY x\n", { file: "build/app.Dockerfile" });
    assert.fail("expected an error");
  } catch (err) {
    assert.ok(err instanceof ParseError);
    assert.equal(err.where, "build/app.Dockerfile:2");
    assert.equal(err.reason, "unknown instruction: XYZZY");
  }
});

test("ARG before FROM used in FROM, stage referencing an earlier stage", () => {
  const d = df("ARG BASE=alpine:3.20\nFROM ${BASE} AS base\nFROM base AS second\nRUN true\n");
  assert.equal(d.stages[0]!.from.image, "${BASE}");
  assert.equal(d.stages[1]!.from.image, "base");
});
