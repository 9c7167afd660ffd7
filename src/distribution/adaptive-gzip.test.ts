import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { gunzipSync } from "node:zlib";
import { AdaptiveGzip } from "./adaptive-gzip.js";

async function gz(parts: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(parts), new AdaptiveGzip(), async function* (src) { for await (const c of src) out.push(c as Buffer); });
  return Buffer.concat(out);
}

test("round-trips mixed random and compressible data as one gzip stream", async () => {
  const parts: Buffer[] = [];
  for (let i = 0; i < 12; i++) parts.push(randomBytes(1 << 20));
  for (let i = 0; i < 12; i++) parts.push(Buffer.alloc(1 << 20, "text text text "));
  for (let i = 0; i < 40; i++) parts.push(randomBytes(1 << 20));
  const input = Buffer.concat(parts);
  const out = await gz(parts);
  assert.ok(gunzipSync(out).equals(input));
  assert.ok(out.length < input.length - (10 << 20), "the compressible part compressed");
});

test("empty input is a valid gzip stream", async () => {
  assert.equal(gunzipSync(await gz([])).length, 0);
});
