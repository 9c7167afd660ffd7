import { test } from "node:test";
import assert from "node:assert/strict";
import { passesCleanupBarrier } from "./cleanup-barrier.js";

test("the run --rm requests pass; anything that could see a removed container's leftovers waits", () => {
  for (const [m, p] of [["HEAD", "/_ping"], ["POST", "/containers/create"], ["POST", "/containers/abc/start"], ["POST", "/containers/abc/attach"], ["POST", "/containers/abc/wait"]]) {
    assert.equal(passesCleanupBarrier(m!, p!), true, `${m} ${p}`);
  }
  for (const [m, p] of [["GET", "/containers/json"], ["DELETE", "/containers/abc"], ["GET", "/networks/bridge"], ["DELETE", "/images/busybox"], ["DELETE", "/volumes/v"], ["GET", "/system/df"], ["POST", "/containers/prune"], ["GET", "/containers/abc/json"], ["POST", "/containers/a/b/start"]]) {
    assert.equal(passesCleanupBarrier(m!, p!), false, `${m} ${p}`);
  }
});
