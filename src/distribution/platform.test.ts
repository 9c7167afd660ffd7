import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePlatform, selectManifest } from "./platform.js";

const d = (architecture: string, variant?: string) => ({
  mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${architecture.padEnd(64, "0").slice(0, 64)}`, size: 1,
  platform: { os: "linux", architecture, ...(variant ? { variant } : {}) },
});

test("parse platforms the way docker --platform does", () => {
  assert.deepEqual(parsePlatform("linux/amd64"), { os: "linux", architecture: "amd64" });
  assert.deepEqual(parsePlatform("linux/arm64"), { os: "linux", architecture: "arm64", variant: "v8" });
  assert.deepEqual(parsePlatform("linux/arm/v7"), { os: "linux", architecture: "arm", variant: "v7" });
  assert.throws(() => parsePlatform("linux//"), /unknown operating system or architecture/);
});

test("select the matching manifest from an index, or fail like Docker", () => {
  const list = [d("arm", "v7"), d("amd64"), d("arm64", "v8")];
  assert.equal(selectManifest(list, parsePlatform("linux/amd64"), "x").platform?.architecture, "amd64");
  assert.equal(selectManifest(list, parsePlatform("linux/arm64"), "x").platform?.architecture, "arm64");
  assert.equal(selectManifest(list, parsePlatform("linux/arm/v7"), "x").platform?.variant, "v7");
  assert.throws(() => selectManifest(list, parsePlatform("linux/s390x"), "x"), /no matching manifest for linux\/s390x in the manifest list entries/);
});
