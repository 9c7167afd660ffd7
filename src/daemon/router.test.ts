import { test } from "node:test";
import assert from "node:assert/strict";
import { Router } from "./router.js";
import { splitVersion, compareVersions } from "./api-version.js";

const h = () => {};

test("params match one segment; name+ is greedy across slashes; static routes win by order", () => {
  const r = new Router([
    { method: "GET", path: "/images/json", handle: h },
    { method: "GET", path: "/images/:name+/json", handle: h },
    { method: "DELETE", path: "/images/:name+", handle: h },
    { method: "POST", path: "/containers/:id/start", handle: h },
  ]);
  assert.equal(r.match("GET", "/images/json")?.route.path, "/images/json");
  assert.deepEqual(r.match("GET", "/images/localhost:5000/a/b/json")?.params, { name: "localhost:5000/a/b" });
  assert.deepEqual(r.match("DELETE", "/images/sha256%3Aabc")?.params, { name: "sha256:abc" });
  assert.deepEqual(r.match("GET", `/images/sha256:${"a".repeat(64)}/json`)?.params, { name: `sha256:${"a".repeat(64)}` });
  assert.deepEqual(r.match("POST", "/containers/abc/start/")?.params, { id: "abc" });
  assert.equal(r.match("GET", "/containers/abc/start"), undefined);
  assert.equal(r.match("POST", "/containers/a/b/start"), undefined);
});

test("version prefixes are stripped and bounded", () => {
  assert.deepEqual(splitVersion("/v1.43/containers/json"), { version: "1.43", path: "/containers/json" });
  assert.equal(splitVersion("/containers/json").path, "/containers/json");
  assert.throws(() => splitVersion("/v2.0/_ping"), /too new/);
  assert.throws(() => splitVersion("/v1.23/_ping"), /too old/);
  assert.equal(compareVersions("1.9", "1.10"), -1);
  assert.equal(compareVersions("1.40", "1.4"), 1);
});
