import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { completeTar } from "./complete-tar.js";

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function names(buf: Buffer, chunk = 100): Promise<string[]> {
  const out: string[] = [];
  const ex = tar.extract();
  ex.on("entry", (h, s, next) => {
    const parts: Buffer[] = [];
    s.on("data", (c) => parts.push(c as Buffer));
    s.on("error", () => {}); // the extract stream reports it
    s.on("end", () => { out.push(`${h.name}=${Buffer.concat(parts).toString()}`); next(); });
  });
  const pieces = [];
  for (let i = 0; i < buf.length; i += chunk) pieces.push(buf.subarray(i, i + chunk));
  await pipeline(Readable.from(pieces), completeTar(), ex);
  return out;
}

test("completeTar: a whole archive passes unchanged in meaning", async () => {
  assert.deepEqual(await names(await tarOf({ a: "1", "d/b": "22" })), ["a=1", "d/b=22"]);
});

test("completeTar: an archive that stops right after the last entry's data (docker CLI -f outside the context) is completed", async () => {
  const full = await tarOf({ a: "hello", ".dockerfile.x": "FROM busybox\n" });
  const cut = full.subarray(0, 512 + 512 + 512 + 13); // header a, data a, header df, 13 bytes of data: no padding, no trailer
  assert.deepEqual(await names(cut, 7), ["a=hello", ".dockerfile.x=FROM busybox\n"]);
  assert.deepEqual(await names(full.subarray(0, 1024)), ["a=hello"], "cut at a header boundary");
});

test("completeTar: a stream cut inside an entry's data or a header still fails", async () => {
  const full = await tarOf({ a: "hello world" });
  await assert.rejects(names(full.subarray(0, 512 + 5)));
  await assert.rejects(names(full.subarray(0, 300)));
});
