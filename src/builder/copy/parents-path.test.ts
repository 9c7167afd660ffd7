import { test } from "node:test";
import assert from "node:assert/strict";
import { parentsDestination, parentsMatch, parentsSource, parentsTarget } from "./parents-path.js";
import { selectSources, type SourceTree } from "./source-tree.js";
import type { ContextEntry } from "../context/build-context.js";

test("parentsSource: no pivot keeps the whole path; /./ marks the pivot; a leading ./ is not one", () => {
  assert.deepEqual(parentsSource("./x/a.txt"), { pattern: "x/a.txt", pivot: "" });
  assert.deepEqual(parentsSource("x/y/"), { pattern: "x/y", pivot: "" });
  assert.deepEqual(parentsSource("./x/./y/*.txt"), { pattern: "x/y/*.txt", pivot: "x" });
  assert.deepEqual(parentsSource("a/b/./c/d"), { pattern: "a/b/c/d", pivot: "a/b" });
  assert.deepEqual(parentsSource("/abs/./rel"), { pattern: "abs/rel", pivot: "abs" });
  assert.throws(() => parentsSource("../x/./y"), /outside the build context/);
});

test("parentsTarget / parentsDestination: the path below the pivot, by depth (wildcard pivots too)", () => {
  assert.equal(parentsTarget("x/y/a.txt", ""), "x/y/a.txt");
  assert.equal(parentsTarget("x/y/a.txt", "x"), "y/a.txt");
  assert.equal(parentsTarget("pkg1/lib/a.go", "*"), "lib/a.go");
  assert.equal(parentsTarget("x", "x"), "");
  assert.equal(parentsDestination("/parents", "x/y/a.txt", "x"), "/parents/y/a.txt");
  assert.equal(parentsDestination("/app", "src", "src"), "/app");
  assert.equal(parentsDestination("/app", "src/main.c", ""), "/app/src/main.c");
});

test("parentsMatch: Go filepath.Match per component, ** for any number of directories", () => {
  assert.ok(parentsMatch("x/*/a.txt", "x/b/a.txt"));
  assert.ok(!parentsMatch("x/*/a.txt", "x/b/c/a.txt"));
  assert.ok(parentsMatch("x/**/a.txt", "x/a.txt"));
  assert.ok(parentsMatch("x/**/a.txt", "x/b/c/a.txt"));
  assert.ok(!parentsMatch("x/**/a.txt", "y/b/a.txt"));
  assert.ok(parentsMatch("**/*.json", "a/b/package.json"));
  assert.ok(parentsMatch("**/*.json", "package.json"));
  assert.ok(!parentsMatch("**/*.json", "a/b/package.jsonx"));
});

function tree(paths: Record<string, "file" | "directory">): SourceTree {
  const entries = new Map<string, ContextEntry>();
  for (const [p, type] of Object.entries(paths)) entries.set(p, { type, mode: 0o644, uid: 0, gid: 0, size: 0, linkname: "", hash: p });
  return { root: "/nonexistent", entries, kind: "context" };
}

test("selectSources with --parents: pivots carried per source, ** globs, missing sources are Docker's error", () => {
  const t = tree({ x: "directory", "x/y": "directory", "x/y/a.txt": "file", "x/y/b.txt": "file", "x/y/c.md": "file", "x/z": "directory", "x/z/d/a.txt": "file" });
  assert.deepEqual(selectSources(t, ["./x/./y/*.txt"], "COPY", { parents: true }), [
    { rel: "x/y/a.txt", isDir: false, pivot: "x" }, { rel: "x/y/b.txt", isDir: false, pivot: "x" },
  ]);
  assert.deepEqual(selectSources(t, ["x/**/a.txt"], "COPY", { parents: true }).map((s) => s.rel), ["x/y/a.txt", "x/z/d/a.txt"]);
  assert.deepEqual(selectSources(t, ["x/y"], "COPY", { parents: true }), [{ rel: "x/y", isDir: true, pivot: "" }]);
  assert.deepEqual(selectSources(t, ["x/y"], "COPY"), [{ rel: "x/y", isDir: true }], "without --parents nothing changes");
  assert.throws(() => selectSources(t, ["./x/./nope.txt"], "COPY", { parents: true }), /file not found in build context.*nope\.txt/);
});
