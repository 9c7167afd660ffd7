import assert from "node:assert/strict";
import { test } from "node:test";
import { mergeConfig } from "./merge-config.js";

test("mergeConfig: the healthcheck is merged field by field with the image's, NONE wins", () => {
  const image = { Cmd: ["sh"], Healthcheck: { Test: ["CMD", "probe"], Interval: 5e9, Retries: 4 } };
  assert.deepEqual(mergeConfig(image, { Image: "x" }).Healthcheck, { Test: ["CMD", "probe"], Interval: 5e9, Retries: 4 });
  assert.deepEqual(mergeConfig(image, { Image: "x", Healthcheck: { Interval: 2e8, Retries: 0 } }).Healthcheck, { Test: ["CMD", "probe"], Interval: 2e8, Retries: 4 });
  assert.deepEqual(mergeConfig(image, { Image: "x", Healthcheck: { Test: ["CMD-SHELL", "true"] } }).Healthcheck, { Test: ["CMD-SHELL", "true"], Interval: 5e9, Retries: 4 });
  assert.deepEqual(mergeConfig(image, { Image: "x", Healthcheck: { Test: ["NONE"] } }).Healthcheck!.Test, ["NONE"]);
  assert.equal(mergeConfig({ Cmd: ["sh"] }, { Image: "x" }).Healthcheck, undefined);
});
