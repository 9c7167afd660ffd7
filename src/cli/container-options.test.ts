import { test } from "node:test";
import assert from "node:assert/strict";
import { parseFlags } from "./flags.js";
import { buildCreateBody, CREATE_FLAGS, parseMount, parsePortSpecs, parseRestartPolicy } from "./container-options.js";

test("port specs: exposed ports and bindings like nat.ParsePortSpecs", () => {
  assert.deepEqual(parsePortSpecs(["80"]), { exposed: { "80/tcp": {} }, bindings: { "80/tcp": [{ HostIp: "", HostPort: "" }] } });
  assert.deepEqual(parsePortSpecs(["127.0.0.1:8080:80/udp"]).bindings, { "80/udp": [{ HostIp: "127.0.0.1", HostPort: "8080" }] });
  assert.deepEqual(parsePortSpecs(["[::1]:8080:80"]).bindings, { "80/tcp": [{ HostIp: "::1", HostPort: "8080" }] });
  assert.deepEqual(parsePortSpecs(["127.0.0.1::80"]).bindings, { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] });
  assert.deepEqual(Object.keys(parsePortSpecs(["8000-8001:80-81"]).bindings), ["80/tcp", "81/tcp"]);
  assert.equal(parsePortSpecs(["8000-8001:80-81"]).bindings["81/tcp"]![0]!.HostPort, "8001");
  assert.throws(() => parsePortSpecs(["abc"]), /invalid containerPort/);
});

test("restart policies and mounts", () => {
  assert.deepEqual(parseRestartPolicy("on-failure:3"), { Name: "on-failure", MaximumRetryCount: 3 });
  assert.deepEqual(parseRestartPolicy("always"), { Name: "always" });
  assert.throws(() => parseRestartPolicy("always:3"), /maximum retry count/);
  assert.throws(() => parseRestartPolicy("sometimes"), /invalid restart policy/);
  assert.deepEqual(parseMount("type=bind,source=/a,target=/b,readonly"), { Type: "bind", Source: "/a", Target: "/b", ReadOnly: true });
  assert.deepEqual(parseMount("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777"), { Type: "tmpfs", Target: "/t", TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 } });
  assert.throws(() => parseMount("type=bind,source=/a"), /target is required/);
});

test("run flags become the create body docker sends", () => {
  const p = parseFlags(["--rm", "-it", "--name", "web", "-e", "A=1", "-e", "HOME_X", "-p", "8080:80", "-v", "/data", "-v", "/h:/c:ro",
    "--tmpfs", "/run:size=1m", "--restart", "no", "--init", "-m", "512m", "--entrypoint", "", "busybox", "sh", "-c", "x"], CREATE_FLAGS, { interspersed: false });
  const plan = buildCreateBody(p.flags, p.args, { HOME_X: "/root" });
  const b = plan.body;
  assert.equal(plan.name, "web");
  assert.equal(b.Image, "busybox");
  assert.deepEqual(b.Cmd, ["sh", "-c", "x"]);
  assert.deepEqual(b.Entrypoint, [""]);
  assert.deepEqual(b.Env, ["A=1", "HOME_X=/root"]);
  assert.equal(b.Tty, true);
  assert.equal(b.OpenStdin, true);
  assert.equal(b.AttachStdin, true);
  assert.deepEqual(b.Volumes, { "/data": {} });
  assert.deepEqual(b.HostConfig!.Binds, ["/h:/c:ro"]);
  assert.deepEqual(b.HostConfig!.Tmpfs, { "/run": "size=1m" });
  assert.equal(b.HostConfig!.AutoRemove, true);
  assert.equal(b.HostConfig!.Init, true);
  assert.equal(b.HostConfig!.Memory, 512 * 1024 * 1024);
  assert.deepEqual(b.ExposedPorts, { "80/tcp": {} });
  const d = buildCreateBody(parseFlags(["busybox"], CREATE_FLAGS, { interspersed: false }).flags, ["busybox"], {}, { detach: true });
  assert.equal(d.body.AttachStdout, false);
  assert.equal(d.body.Cmd, null);
  assert.equal(d.body.HostConfig!.Init, null);
});

test("health flags: docker's HealthConfig, its conflicts, and Berth's --health-on-failure", () => {
  const body = (...argv: string[]) => {
    const p = parseFlags([...argv, "busybox"], CREATE_FLAGS, { interspersed: false });
    return buildCreateBody(p.flags, p.args, {}).body;
  };
  assert.equal(body().Healthcheck, undefined);
  assert.deepEqual(body("--health-cmd", "test -f /ok", "--health-interval", "200ms", "--health-retries", "2", "--health-start-interval", "1s").Healthcheck, {
    Test: ["CMD-SHELL", "test -f /ok"], Interval: 200_000_000, StartInterval: 1_000_000_000, Retries: 2,
  });
  assert.deepEqual(body("--health-timeout", "3s").Healthcheck, { Timeout: 3_000_000_000 });
  assert.deepEqual(body("--no-healthcheck").Healthcheck, { Test: ["NONE"] });
  assert.throws(() => body("--no-healthcheck", "--health-cmd", "true"), /^EngineError: --no-healthcheck conflicts with --health-\* options$/);
  assert.throws(() => body("--health-interval", "-1s"), /--health-interval cannot be negative/);
  assert.throws(() => body("--health-retries", "-1"), /--health-retries cannot be negative/);
  assert.equal(body("--health-on-failure", "restart").HostConfig!.HealthOnFailure, "restart");
  assert.equal(body().HostConfig!.HealthOnFailure, undefined);
  assert.throws(() => body("--health-on-failure", "reboot"), /--health-on-failure/);
});
