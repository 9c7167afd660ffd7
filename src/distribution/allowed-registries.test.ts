import { test } from "node:test";
import assert from "node:assert/strict";
import { registryEndpoints } from "./registry-endpoints.js";
import { isKind } from "../errdefs/index.js";

test("allowed-registries refuses every other registry before any lookup", () => {
  const cfg = { allowedRegistries: ["127.0.0.0/8", "localhost"] };
  assert.equal(registryEndpoints("127.0.0.1:5000", cfg).at(-1)!.host, "127.0.0.1:5000");
  assert.equal(registryEndpoints("localhost:5000", cfg).at(-1)!.host, "localhost:5000");
  assert.throws(() => registryEndpoints("docker.io", cfg), (err) => isKind(err, "forbidden") && /registry-1\.docker\.io is not in this daemon's allowed-registries/.test((err as Error).message));
  assert.throws(() => registryEndpoints("10.0.0.1:5000", cfg), (err) => isKind(err, "forbidden"));
  assert.throws(() => registryEndpoints("docker.io", { ...cfg, registryMirrors: ["https://mirror.example"] }), (err) => isKind(err, "forbidden"));
  assert.equal(registryEndpoints("docker.io", {}).at(-1)!.host, "registry-1.docker.io", "no list allows all");
});
