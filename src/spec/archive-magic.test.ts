import { test } from "node:test";
import assert from "node:assert/strict";
import { isArchiveHead } from "./archive-magic.js";

test("isArchiveHead knows tar and the usual compressions, and not a Dockerfile", () => {
  const tarHead = Buffer.alloc(512);
  tarHead.write("ustar", 257, "latin1");
  assert.equal(isArchiveHead(tarHead), true);
  assert.equal(isArchiveHead(Buffer.from([0x1f, 0x8b, 8, 0])), true);
  assert.equal(isArchiveHead(Buffer.from("BZh91AY")), true);
  assert.equal(isArchiveHead(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1])), true);
  assert.equal(isArchiveHead(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0])), true);
  assert.equal(isArchiveHead(Buffer.from("FROM busybox\nRUN true\n")), false);
  assert.equal(isArchiveHead(Buffer.alloc(0)), false);
});
