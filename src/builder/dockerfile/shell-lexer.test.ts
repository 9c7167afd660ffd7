import { test } from "node:test";
import assert from "node:assert/strict";
import { expand, expandDetailed, expandWords } from "./shell-lexer.js";

const env = { A: "abc", E: "", P: "foo.tar.gz", S: "a b  c", PATHV: "/usr/local/bin:/usr/bin" };

const table: [string, string][] = [
  ["$A", "abc"],
  ["${A}", "abc"],
  ["x${A}y", "xabcy"],
  ["$A$A", "abcabc"],
  ["$U", ""],
  ["${U}", ""],
  ["$", "$"],
  ["a$", "a$"],
  ["$-", ""],
  // :- and -
  ["${U:-def}", "def"],
  ["${E:-def}", "def"],
  ["${A:-def}", "abc"],
  ["${U-def}", "def"],
  ["${E-def}", ""],
  ["${A-def}", "abc"],
  // :+ and +
  ["${U:+alt}", ""],
  ["${E:+alt}", ""],
  ["${A:+alt}", "alt"],
  ["${U+alt}", ""],
  ["${E+alt}", "alt"],
  // ? forms that pass
  ["${A:?boom}", "abc"],
  ["${E?boom}", ""],
  // nested words
  ["${U:-$A}", "abc"],
  ["${U:-${E:-x$A}}", "xabc"],
  ["${A:+pre-${A}-post}", "pre-abc-post"],
  // patterns
  ["${P#*.}", "tar.gz"],
  ["${P##*.}", "gz"],
  ["${P%.*}", "foo.tar"],
  ["${P%%.*}", "foo"],
  ["${P#nomatch}", "foo.tar.gz"],
  ["${P/./_}", "foo_tar.gz"],
  ["${P//./_}", "foo_tar_gz"],
  ["${PATHV//:/ }", "/usr/local/bin /usr/bin"],
  ["${P/f?o/bar}", "bar.tar.gz"],
  ["${P#\\*}", "foo.tar.gz"],
  ["${U#x}", ""],
  // quotes and escapes
  ["'$A'", "$A"],
  ['"$A"', "abc"],
  ['"a b"', "a b"],
  ["'a\\b'", "a\\b"],
  ['"a\\"b"', 'a"b'],
  ['"a\\$A"', "a$A"],
  ['"a\\nb"', "a\\nb"],
  ['"a\\\\b"', "a\\b"],
  ["\\$A", "$A"],
  ["\\${A}", "${A}"],
  ["a\\ b", "a b"],
  ["\\\\", "\\"],
  ["'it'\\''s'", "it's"],
  ["\"'$A'\"", "'abc'"],
  ["'\"$A\"'", '"$A"'],
  ["hello world", "hello world"],
  ["trailing\\", "trailing"],
];

for (const [input, want] of table) {
  test(`expand ${JSON.stringify(input)} -> ${JSON.stringify(want)}`, () => {
    assert.equal(expand(input, env), want);
  });
}

test("backtick escape character", () => {
  assert.equal(expand("`$A", env, { escape: "`" }), "$A");
  assert.equal(expand("C:\\path\\$A", env, { escape: "`" }), "C:\\path\\abc");
});

test("${v:?msg} and ${v?msg} errors", () => {
  assert.throws(() => expand("${U:?need U}", env), /U: need U/);
  assert.throws(() => expand("${U?}", env), /U: is not allowed to be unset/);
  assert.throws(() => expand("${E:?}", env), /E: is not allowed to be empty/);
  assert.throws(() => expand("${U:?}", env), /U: is not allowed to be unset/);
});

test("syntax errors", () => {
  assert.throws(() => expand("${A", env), /missing '}'/);
  assert.throws(() => expand("${}", env), /bad substitution/);
  assert.throws(() => expand("${:x}", env), /bad substitution/);
  assert.throws(() => expand("${A:#x}", env), /unsupported modifier \(:#\)/);
  assert.throws(() => expand("${A^x}", env), /unsupported modifier/);
  assert.throws(() => expand("'abc", env), /single-quote/);
  assert.throws(() => expand('"abc', env), /double-quote/);
});

test("expandWords splits unquoted substitutions but not quoted ones", () => {
  assert.deepEqual(expandWords("$S x", env), ["a", "b", "c", "x"]);
  assert.deepEqual(expandWords('"$S" x', env), ["a b  c", "x"]);
  assert.deepEqual(expandWords("'a b' c\\ d", env), ["a b", "c d"]);
  assert.deepEqual(expandWords("  ", env), []);
});

test("used and unset variables are reported", () => {
  const unset: string[] = [];
  const r = expandDetailed("$A ${U:-x} $E", env, { onUnset: (n) => unset.push(n) });
  assert.deepEqual([...r.used].sort(), ["A", "E"]);
  assert.deepEqual([...r.unset], ["U"]);
  assert.deepEqual(unset, ["U"]);
});

test("Map environments work and lookups are own-properties only", () => {
  assert.equal(expand("$A", new Map([["A", "m"]])), "m");
  assert.equal(expand("${constructor}", {}), "");
});
