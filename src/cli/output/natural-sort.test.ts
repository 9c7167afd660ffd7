import { test } from "node:test";
import assert from "node:assert/strict";
import { naturalLess } from "./natural-sort.js";

test("naturalLess orders digit runs by value, the rest bytewise", () => {
  const sorted = ["net10", "net2", "Net1", "net1", "a", "net02", "bridge"].sort((a, b) => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0));
  assert.deepEqual(sorted, ["Net1", "a", "bridge", "net1", "net2", "net02", "net10"]);
  assert.equal(naturalLess("x", "x"), false);
  assert.equal(naturalLess("x", "x1"), true);
});
