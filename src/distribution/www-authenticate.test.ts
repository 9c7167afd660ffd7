import { test } from "node:test";
import assert from "node:assert/strict";
import { parseWwwAuthenticate } from "./www-authenticate.js";

test("parses a bearer challenge with quoted params", () => {
  const c = parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"');
  assert.deepEqual(c, [{ scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:samalba/my-app:pull,push" } }]);
});

test("parses basic and error params", () => {
  assert.deepEqual(parseWwwAuthenticate('Basic realm="Registry Realm"'), [{ scheme: "basic", params: { realm: "Registry Realm" } }]);
  const c = parseWwwAuthenticate('Bearer realm="r",service="s",error="insufficient_scope"');
  assert.equal(c[0]!.params.error, "insufficient_scope");
});
