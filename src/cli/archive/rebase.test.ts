import { test } from "node:test";
import assert from "node:assert/strict";
import { rebaseName } from "./rebase.js";

test("rebase renames the first component only", () => {
  assert.equal(rebaseName("d/sub/y", "d", "x"), "x/sub/y");
  assert.equal(rebaseName("d/", "d", "x"), "x");
  assert.equal(rebaseName("d/sub", "d", ""), "sub");
  assert.equal(rebaseName("dd/sub", "d", "x"), null);
  assert.equal(rebaseName("./sub/y", ".", "dd"), "dd/sub/y");
  assert.equal(rebaseName("./", ".", "dd"), "dd");
  assert.equal(rebaseName("./sub/", ".", ""), "sub");
});
