import { test } from "node:test";
import assert from "node:assert/strict";
import {
  familiarName, familiarString, formatReference, isNameOnly, parseReference, parseTaggedReference,
} from "./reference.js";
import { isInvalidArgument } from "../errdefs/index.js";

const HEX = "a".repeat(64);

test("normalizes Docker Hub short names", () => {
  const table: [string, string, string][] = [
    ["busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["busybox:latest", "docker.io/library/busybox:latest", "busybox:latest"],
    ["docker.io/library/busybox:latest", "docker.io/library/busybox:latest", "busybox:latest"],
    ["index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["user/app:1.0", "docker.io/user/app:1.0", "user/app:1.0"],
    ["docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"],
    ["localhost:5000/a/b:tag", "localhost:5000/a/b:tag", "localhost:5000/a/b:tag"],
    ["localhost/x", "localhost/x:latest", "localhost/x:latest"],
    ["reg.example.com/x__y/z-1.2:v1_2-3.4", "reg.example.com/x__y/z-1.2:v1_2-3.4", "reg.example.com/x__y/z-1.2:v1_2-3.4"],
    ["[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x:latest"],
  ];
  for (const [input, full, familiar] of table) {
    const r = parseTaggedReference(input);
    assert.equal(formatReference(r), full, input);
    assert.equal(familiarString(r), familiar, input);
  }
});

test("keeps digests and name-only references", () => {
  const r = parseReference(`busybox@sha256:${HEX}`);
  assert.equal(r.tag, null);
  assert.equal(r.digest, `sha256:${HEX}`);
  assert.equal(familiarString(r), `busybox@sha256:${HEX}`);
  assert.equal(formatReference(parseTaggedReference(`busybox@sha256:${HEX}`)), `docker.io/library/busybox@sha256:${HEX}`);
  const both = parseReference(`localhost:5000/x:1@sha256:${HEX}`);
  assert.equal(both.tag, "1");
  assert.ok(isNameOnly(parseReference("busybox")));
  assert.equal(familiarName(parseReference("busybox:1")), "busybox");
});

test("rejects invalid references with Docker's wording", () => {
  const bad = ["", ":tag", "a:b:c", "UPPER/x::", "a//b", "-a", "a-", "a b", "busybox:-x", "busybox@sha256:short", "a/../b", "/abs"];
  for (const s of bad) {
    assert.throws(() => parseReference(s), (e: unknown) => isInvalidArgument(e) && /invalid reference format/.test((e as Error).message), s);
  }
  assert.throws(() => parseReference("Busybox"), { message: "invalid reference format: repository name (library/Busybox) must be lowercase" });
  assert.throws(() => parseReference(HEX), { message: `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings` });
  assert.throws(() => parseReference("a:" + "x".repeat(129)), { message: "invalid reference format" });
  assert.throws(() => parseReference("a/".repeat(130) + "b"), /must not be more than 255 characters/);
});

test("an uppercase registry host is a domain, not a repository", () => {
  assert.equal(formatReference(parseTaggedReference("Reg.Example.com/x")), "Reg.Example.com/x:latest");
});
