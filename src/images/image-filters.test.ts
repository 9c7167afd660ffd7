import { test } from "node:test";
import assert from "node:assert/strict";
import { labelsMatch, parseTimestamp, referenceMatches } from "./image-filters.js";
import { globMatch } from "./glob-match.js";
import { parseTaggedReference } from "../spec/reference.js";

test("reference filter matches Docker's familiar forms", () => {
  const r = parseTaggedReference("busybox:latest");
  assert.ok(referenceMatches("busybox", r));
  assert.ok(referenceMatches("bus*:lat*", r));
  assert.ok(referenceMatches("busybox:latest", r));
  assert.ok(!referenceMatches("busybox:1", r));
  assert.ok(!referenceMatches("*", parseTaggedReference("localhost:5000/a/b:1")));
  assert.ok(referenceMatches("localhost:5000/*/*", parseTaggedReference("localhost:5000/a/b:1")));
  assert.ok(globMatch("a[0-9]?", "a1x"));
  assert.ok(!globMatch("a[^0-9]", "a1"));
});

test("label filters and timestamps", () => {
  assert.ok(labelsMatch({ a: "1", b: "" }, ["a", "a=1", "b="]));
  assert.ok(!labelsMatch({ a: "1" }, ["a=2"]));
  assert.ok(labelsMatch({ a: "1" }, ["c"], true));
  assert.ok(!labelsMatch({ a: "1" }, ["a"], true));
  assert.equal(parseTimestamp("1h30m", 10_000_000), 10_000_000 - 5_400_000);
  assert.equal(parseTimestamp("1700000000"), 1_700_000_000_000);
  assert.equal(parseTimestamp("2024-01-02T03:04:05Z"), Date.UTC(2024, 0, 2, 3, 4, 5));
  assert.throws(() => parseTimestamp("nonsense"), /failed to parse value as time or duration/);
});
