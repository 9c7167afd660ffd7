import { test } from "node:test";
import assert from "node:assert/strict";
import { parseFilters, Query } from "./query.js";

test("bool follows dockerd's BoolValue", () => {
  const q = Query.parse("a=1&b=0&c=false&d=no&e=none&f=&g=true&h=yes");
  assert.deepEqual(["a", "b", "c", "d", "e", "f", "g", "h", "absent"].map((k) => q.bool(k)), [true, false, false, false, false, false, true, true, false]);
  assert.equal(q.optBool("absent"), undefined);
});

test("int rejects garbage with a clear error", () => {
  assert.equal(Query.parse("t=10").int("t"), 10);
  assert.equal(Query.parse("t=").int("t"), undefined);
  assert.throws(() => Query.parse("t=ten").int("t"), /invalid value for t/);
});

test("filters accept the current and the legacy shape", () => {
  assert.deepEqual(parseFilters('{"label":["a=b","c"],"dangling":{"true":true,"false":false}}'), { label: ["a=b", "c"], dangling: ["true"] });
  assert.deepEqual(parseFilters(""), {});
  assert.throws(() => parseFilters("[1]"), /invalid filter/);
  assert.throws(() => parseFilters('{"a":1}'), /invalid filter/);
});
