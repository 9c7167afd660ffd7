import { test } from "node:test";
import assert from "node:assert/strict";
import { authKeyFor, domainOfServer, isInsecureRegistry, registryEndpoints } from "./registry-endpoints.js";

test("loopback and localhost are insecure; listed hosts and CIDRs too; others are not", () => {
  assert.equal(isInsecureRegistry("localhost:5000"), true);
  assert.equal(isInsecureRegistry("127.0.0.1:5000"), true);
  assert.equal(isInsecureRegistry("127.1.2.3"), true);
  assert.equal(isInsecureRegistry("[::1]:5000"), true);
  assert.equal(isInsecureRegistry("registry.example.com"), false);
  assert.equal(isInsecureRegistry("10.1.2.3:5000"), false);
  assert.equal(isInsecureRegistry("10.1.2.3:5000", { insecureRegistries: ["10.0.0.0/8"] }), true);
  assert.equal(isInsecureRegistry("reg.lan:5000", { insecureRegistries: ["reg.lan:5000"] }), true);
  assert.equal(isInsecureRegistry("reg.lan:5001", { insecureRegistries: ["reg.lan:5000"] }), false);
});

test("Docker Hub maps to registry-1.docker.io with mirrors first (pull only); per-registry mirrors", () => {
  const cfg = { registryMirrors: ["https://mirror.lan:5000", "ghcr.io=http://127.0.0.1:6000"] };
  const hub = registryEndpoints("docker.io", cfg);
  assert.deepEqual(hub.map((e) => [e.host, e.mirror, e.schemes]), [["mirror.lan:5000", true, ["https"]], ["registry-1.docker.io", false, ["https"]]]);
  assert.deepEqual(registryEndpoints("docker.io", cfg, { push: true }).map((e) => e.host), ["registry-1.docker.io"]);
  const gh = registryEndpoints("ghcr.io", cfg);
  assert.deepEqual(gh.map((e) => [e.host, e.schemes]), [["127.0.0.1:6000", ["http"]], ["ghcr.io", ["https"]]]);
  assert.deepEqual(registryEndpoints("localhost:5000").map((e) => e.schemes), [["https", "http"]]);
});

test("auth keys and login server names", () => {
  assert.equal(authKeyFor("docker.io"), "https://index.docker.io/v1/");
  assert.equal(authKeyFor("localhost:5000"), "localhost:5000");
  assert.equal(domainOfServer(undefined), "docker.io");
  assert.equal(domainOfServer("https://index.docker.io/v1/"), "docker.io");
  assert.equal(domainOfServer("http://127.0.0.1:5000"), "127.0.0.1:5000");
});
