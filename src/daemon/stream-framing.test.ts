import { test } from "node:test";
import assert from "node:assert/strict";
import { frameHeader, primed, streamContentType } from "./stream-framing.js";

test("frame headers are [stream, 0, 0, 0, uint32 BE size]", () => {
  assert.deepEqual([...frameHeader(2, 0x01020304)], [2, 0, 0, 0, 1, 2, 3, 4]);
  assert.equal(streamContentType(false, "1.42"), "application/vnd.docker.multiplexed-stream");
  assert.equal(streamContentType(false, "1.41"), "application/vnd.docker.raw-stream");
  assert.equal(streamContentType(true, "1.47"), "application/vnd.docker.raw-stream");
});

test("primed starts the source at once and yields everything in order", async () => {
  let subscribed = false;
  async function* source() {
    subscribed = true;
    yield 1;
    yield 2;
  }
  const it = primed(source());
  assert.equal(subscribed, true);
  const seen: number[] = [];
  for await (const v of it) seen.push(v);
  assert.deepEqual(seen, [1, 2]);
});
