#!/usr/bin/env node
// Runs the compiled test files with node's test runner. --unit: only the module tests under dist/src.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const unitOnly = process.argv.includes("--unit");
const roots = unitOnly ? ["dist/src"] : ["dist/src", "dist/test"];
const files = [];
const walk = (dir) => {
  let names;
  try { names = readdirSync(dir); } catch { return; }
  for (const name of names.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith(".test.js")) files.push(p);
  }
};
roots.forEach(walk);
if (files.length === 0) {
  console.error("no test files found under", roots.join(", "));
  process.exit(1);
}
const extra = process.argv.slice(2).filter((a) => a !== "--unit");
const res = spawnSync(process.execPath, ["--test", "--test-timeout=300000", ...extra, ...files], { stdio: "inherit" });
process.exit(res.status ?? 1);
