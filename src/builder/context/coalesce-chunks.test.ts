import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { coalesceChunks } from "./coalesce-chunks.js";

async function collect(chunks: Buffer[], min: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks).pipe(coalesceChunks(min))) out.push(c as Buffer);
  return out;
}

test("small chunks are joined into chunks of at least min bytes, the rest at the end", async () => {
  const chunks = Array.from({ length: 10 }, (_, i) => Buffer.alloc(3, i));
  const t = coalesceChunks(8);
  const out: number[] = [];
  t.on("data", (c: Buffer) => out.push(c.length));
  for (const c of chunks) t.write(c);
  t.end();
  await new Promise((r) => t.on("end", r));
  assert.deepEqual(out, [9, 9, 9, 3]);
  assert.deepEqual(Buffer.concat(await collect(chunks, 8)), Buffer.concat(chunks));
});

test("a large chunk passes as it is; an empty stream gives nothing", async () => {
  const big = Buffer.alloc(20, 7);
  assert.deepEqual(await collect([big], 8), [big]);
  assert.deepEqual(await collect([], 8), []);
});
