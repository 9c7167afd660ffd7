import { test } from "node:test";
import assert from "node:assert/strict";
import { EscapeProxy, parseDetachKeys } from "./escape-proxy.js";

async function through(keys: number[], chunks: string[]): Promise<{ out: string; detached: boolean }> {
  const p = new EscapeProxy(keys);
  let detached = false;
  p.on("detach", () => { detached = true; });
  let out = "";
  p.on("data", (c: Buffer) => { out += c.toString("latin1"); });
  const ended = new Promise((r) => p.on("end", r));
  for (const c of chunks) { if (!detached) p.write(Buffer.from(c, "latin1")); }
  if (!detached) p.end();
  await ended;
  return { out, detached };
}

test("detach keys: Docker's syntax and message", () => {
  assert.deepEqual(parseDetachKeys(""), [0x10, 0x11]);
  assert.deepEqual(parseDetachKeys("ctrl-x,x"), [0x18, 0x78]);
  assert.deepEqual(parseDetachKeys("ctrl-@,ctrl-[,ctrl-_"), [0, 27, 31]);
  assert.throws(() => parseDetachKeys("ctrl-1"), /^Error: Invalid detach keys \(ctrl-1\) provided$/);
  assert.throws(() => parseDetachKeys("abc"), /Invalid detach keys/);
});

test("escape proxy: passes input, swallows the sequence split across chunks, lets a broken prefix through", async () => {
  assert.deepEqual(await through([0x10, 0x11], ["ab", "\x10", "\x11cd"]), { out: "ab", detached: true });
  assert.deepEqual(await through([0x10, 0x11], ["a\x10b", "\x10\x10\x11"]), { out: "a\x10b\x10", detached: true });
  assert.deepEqual(await through([0x18, 0x78], ["echo x\n"]), { out: "echo x\n", detached: false });
  assert.deepEqual(await through([0x10, 0x11], ["tail\x10"]), { out: "tail\x10", detached: false });
});
