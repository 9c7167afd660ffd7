import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { peekStream } from "./peek-stream.js";

async function text(r: Readable): Promise<string> {
  let s = "";
  for await (const c of r) s += c.toString();
  return s;
}

test("peekStream gives the head and the whole stream back", async () => {
  const { head, stream } = await peekStream(Readable.from([Buffer.from("abc"), Buffer.from("defg"), Buffer.from("hij")]), 5);
  assert.equal(head.toString(), "abcde");
  assert.equal(await text(stream), "abcdefghij");
});

test("peekStream on a stream shorter than the head", async () => {
  const { head, stream } = await peekStream(Readable.from([Buffer.from("ab")]), 512);
  assert.equal(head.toString(), "ab");
  assert.equal(await text(stream), "ab");
});
