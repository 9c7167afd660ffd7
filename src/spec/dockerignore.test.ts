import { test } from "node:test";
import assert from "node:assert/strict";
import { IgnoreMatcher, parseDockerignore } from "./dockerignore.js";

test("parseDockerignore cleans lines like Docker", () => {
  const text = "\uFEFF# comment\n  *.log  \n\n!  keep.log\n/abs/path/\n./rel/./x/\na/../b\n .\n# another\n  #notcomment\nnode_modules\r\n";
  assert.deepEqual(parseDockerignore(text), [
    { pattern: "*.log", exclusion: false },
    { pattern: "keep.log", exclusion: true },
    { pattern: "abs/path", exclusion: false },
    { pattern: "rel/x", exclusion: false },
    { pattern: "b", exclusion: false },
    { pattern: "#notcomment", exclusion: false },
    { pattern: "node_modules", exclusion: false },
  ]);
  assert.throws(() => parseDockerignore("!\n"), /illegal exclusion pattern: "!"/);
  assert.throws(() => parseDockerignore("[abc\n"), /syntax error in pattern/);
});

const cases: [string, [string, boolean][]][] = [
  ["*.md", [["a.md", true], ["docs/a.md", false], ["a.mdx", false]]],
  ["**/*.md", [["a.md", true], ["docs/a.md", true], ["x/y/z.md", true], ["a.txt", false]]],
  ["*.md\n!README*.md\nREADME-secret.md", [
    ["CHANGES.md", true], ["README.md", false], ["README-dev.md", false], ["README-secret.md", true],
  ]],
  ["node_modules", [["node_modules", true], ["node_modules/a/b.js", true], ["src/node_modules/x", false]]],
  ["**/node_modules", [["src/node_modules/x", true], ["node_modules", true]]],
  ["build/", [["build", true], ["build/out.o", true], ["builder", false]]],
  ["dir/*", [["dir/a", true], ["dir/a/b", true], ["dir", false]]],
  ["a?c", [["abc", true], ["a/c", false], ["ac", false]]],
  ["[a-c]x", [["bx", true], ["dx", false]]],
  ["[^a]x", [["bx", true], ["ax", false]]],
  ["\\*x", [["*x", true], ["ax", false]]],
  ["x/**", [["x/a", true], ["x/a/b/c", true], ["x", false]]],
  ["x/**/y", [["x/y", true], ["x/a/y", true], ["x/a/b/y", true], ["x/a/yy", false]]],
  ["**", [["anything", true], ["a/b", true]]],
  ["*\n!dir", [["file", true], ["dir", false], ["dir/sub/file", false]]],
  ["dir\n!dir/keep", [["dir/other", true], ["dir/keep", false], ["dir/keep/deep", false]]],
  ["*/temp*", [["somedir/temporary.txt", true], ["somedir/temp", true], ["temp", false]]],
  ["*/*/temp*", [["a/b/temp.txt", true], ["a/temp.txt", false]]],
  ["temp?", [["temp1", true], ["tempab", false]]],
  ["file with space", [["file with space", true]]],
  ["a.b", [["a.b", true], ["axb", false]]],
  ["(x)+{y}$", [["(x)+{y}$", true]]],
];

for (const [patterns, expectations] of cases) {
  test(`.dockerignore ${JSON.stringify(patterns)}`, () => {
    const m = IgnoreMatcher.fromText(patterns);
    for (const [path, want] of expectations) assert.equal(m.matches(path), want, `${path}`);
  });
}

test("paths are cleaned before matching", () => {
  const m = IgnoreMatcher.fromText("secret\n");
  for (const p of ["secret", "./secret", "/secret", "secret/", "a/../secret/x"]) assert.equal(m.matches(p), true, p);
  assert.equal(m.matches("."), false);
  assert.equal(m.matches(""), false);
});

test("canSkipDir: only when nothing below could be re-included", () => {
  const plain = IgnoreMatcher.fromText("node_modules\n.git\n");
  assert.equal(plain.canSkipDir("node_modules"), true);
  assert.equal(plain.canSkipDir("src"), false, "not excluded");
  const withExc = IgnoreMatcher.fromText("vendor\n!vendor/keep/file\nbuild\n!**/*.keep\ncache\n!cach?/x\n");
  assert.equal(withExc.canSkipDir("vendor"), false, "an exception points inside");
  assert.equal(withExc.canSkipDir("build"), false, "a ** exception could match anything");
  const simple = IgnoreMatcher.fromText("vendor\n!vendor/keep\nout\n");
  assert.equal(simple.canSkipDir("out"), true);
  assert.equal(simple.canSkipDir("vendor"), false);
  assert.equal(simple.canSkipDir("vendor/other"), true);
  assert.equal(simple.canSkipDir("vendor/keep"), false, "re-included itself");
  const glob = IgnoreMatcher.fromText("cache\n!cach?/x\n");
  assert.equal(glob.canSkipDir("cache"), false);
  assert.equal(IgnoreMatcher.fromText("a\n!b/x\n").canSkipDir("a"), true);
});
