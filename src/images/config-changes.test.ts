import { test } from "node:test";
import assert from "node:assert/strict";
import { applyChanges } from "./config-changes.js";

test("--change lines in JSON and shell form", () => {
  const cfg = applyChanges({ Env: ["PATH=/bin", "A=1"] }, [
    'CMD ["/bin/sh", "-c", "echo hi"]',
    "ENV A=2 B=\"two words\"",
    "ENV C legacy value",
    "WORKDIR /app",
    "WORKDIR sub",
    "EXPOSE 80 53/udp 8000-8001",
    "LABEL maintainer=me \"k two\"=v",
    "USER nobody",
    'VOLUME ["/data"]',
    "VOLUME /a /b",
    "STOPSIGNAL SIGINT",
  ]);
  assert.deepEqual(cfg.Cmd, ["/bin/sh", "-c", "echo hi"]);
  assert.deepEqual(cfg.Env, ["PATH=/bin", "A=2", "B=two words", "C=legacy value"]);
  assert.equal(cfg.WorkingDir, "/app/sub");
  assert.deepEqual(Object.keys(cfg.ExposedPorts!), ["80/tcp", "53/udp", "8000/tcp", "8001/tcp"]);
  assert.deepEqual(cfg.Labels, { maintainer: "me", "k two": "v" });
  assert.equal(cfg.User, "nobody");
  assert.deepEqual(Object.keys(cfg.Volumes!), ["/data", "/a", "/b"]);
  assert.equal(cfg.StopSignal, "SIGINT");
});

test("ENTRYPOINT in shell form wraps in /bin/sh -c and resets an inherited CMD", () => {
  const cfg = applyChanges({ Cmd: ["old"] }, ["ENTRYPOINT top -b"]);
  assert.deepEqual(cfg.Entrypoint, ["/bin/sh", "-c", "top -b"]);
  assert.equal(cfg.Cmd, null);
  const kept = applyChanges({}, ["CMD echo", 'ENTRYPOINT ["/e"]']);
  assert.deepEqual(kept.Cmd, ["/bin/sh", "-c", "echo"]);
  assert.deepEqual(kept.Entrypoint, ["/e"]);
});

test("unknown instructions and bad ports are refused", () => {
  assert.throws(() => applyChanges({}, ["RUN echo"]), { message: "RUN is not a valid change command" });
  assert.throws(() => applyChanges({}, ["EXPOSE abc"]), /invalid containerPort: abc/);
});
