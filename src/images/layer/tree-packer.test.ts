import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { applyLayer, packTree } from "./index.js";

test("packTree output with long and non-ASCII names reads back in GNU tar and in applyLayer", async () => {
  const base = await mkdtemp(join(tmpdir(), "berth-pack-"));
  try {
    const src = join(base, "src");
    const long = "d".repeat(120);
    await mkdir(join(src, long), { recursive: true });
    await writeFile(join(src, long, `${"f".repeat(110)}-é`), "long");
    await writeFile(join(src, "naïve.txt"), "n");
    execFileSync("setfattr", ["-n", "user.bin", "-v", "0xff00fe", join(src, "naïve.txt")]);
    const out = join(base, "out.tar");
    await pipeline(packTree(src), createWriteStream(out));
    const listed = execFileSync("tar", ["-tf", out]).toString().trim().split("\n");
    assert.deepEqual(listed, [`${long}/`, `${long}/${"f".repeat(110)}-é`, "naïve.txt"]);
    const gnu = join(base, "gnu");
    await mkdir(gnu);
    execFileSync("tar", ["--xattrs", "--xattrs-include=*", "-xf", out, "-C", gnu]);
    assert.equal(execFileSync("getfattr", ["-e", "hex", "--only-values", "-n", "user.bin", join(gnu, "naïve.txt")]).toString("hex"), "ff00fe");
    const back = join(base, "back");
    await mkdir(back);
    const { createReadStream } = await import("node:fs");
    await applyLayer(createReadStream(out), back);
    assert.equal(await readFile(join(back, long, `${"f".repeat(110)}-é`), "utf8"), "long");
    assert.equal(execFileSync("getfattr", ["-e", "hex", "--only-values", "-n", "user.bin", join(back, "naïve.txt")]).toString("hex"), "ff00fe");
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
