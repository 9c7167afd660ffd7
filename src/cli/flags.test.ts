import { test } from "node:test";
import assert from "node:assert/strict";
import { bool, FlagError, int, parseFlags, string, strings } from "./flags.js";

const runDefs = {
  detach: bool("d", "Run in background"), interactive: bool("i", "Keep STDIN open"), tty: bool("t", "Allocate a pseudo-TTY"),
  rm: bool("", "Remove when it exits"), name: string("", "Name"), env: strings("e", "Env"), publish: strings("p", "Ports"),
  hostname: string("h", "Hostname"), "stop-timeout": int("", "Timeout"), user: string("u", "User"),
};

test("combined short flags, --flag=value, repeated flags", () => {
  const p = parseFlags(["-dit", "--name=web", "-e", "A=1", "-eB=2", "-e=C=3", "--env", "D=4", "-p8080:80", "--rm", "busybox"], runDefs, { interspersed: false });
  assert.equal(p.flags.bool("detach"), true);
  assert.equal(p.flags.bool("interactive"), true);
  assert.equal(p.flags.bool("tty"), true);
  assert.equal(p.flags.bool("rm"), true);
  assert.equal(p.flags.string("name"), "web");
  assert.deepEqual(p.flags.strings("env"), ["A=1", "B=2", "C=3", "D=4"]);
  assert.deepEqual(p.flags.strings("publish"), ["8080:80"]);
  assert.deepEqual(p.args, ["busybox"]);
});

test("short flag with a value glued to booleans: -itu root", () => {
  const p = parseFlags(["-itu", "root", "img"], runDefs, { interspersed: false });
  assert.equal(p.flags.string("user"), "root");
  assert.deepEqual(p.args, ["img"]);
});

test("run stops parsing at the image: the rest is the command", () => {
  const p = parseFlags(["--rm", "busybox", "ls", "-la", "--name", "x"], runDefs, { interspersed: false });
  assert.deepEqual(p.args, ["busybox", "ls", "-la", "--name", "x"]);
  assert.equal(p.flags.changed("name"), false);
});

test("interspersed flags after positionals for other commands, -- terminator", () => {
  const defs = { force: bool("f", "Force"), volumes: bool("v", "Volumes") };
  const p = parseFlags(["a", "-f", "b", "--", "-v"], defs);
  assert.deepEqual(p.args, ["a", "b", "-v"]);
  assert.equal(p.flags.bool("force"), true);
  assert.equal(p.flags.bool("volumes"), false);
});

test("bool with explicit value, ints, defaults and errors", () => {
  const defs = { rm: bool("", "x"), time: int("t", "Seconds", { default: 10 }), filter: strings("f", "Filters") };
  assert.equal(parseFlags(["--rm=false"], defs).flags.bool("rm"), false);
  assert.equal(parseFlags([], defs).flags.int("time"), 10);
  assert.equal(parseFlags(["-t", "3"], defs).flags.int("time"), 3);
  assert.equal(parseFlags(["-t=-1"], defs).flags.int("time"), -1);
  assert.throws(() => parseFlags(["--nope"], defs), (e: unknown) => e instanceof FlagError && e.message === "unknown flag: --nope");
  assert.throws(() => parseFlags(["-x"], defs), /unknown shorthand flag: 'x' in -x/);
  assert.throws(() => parseFlags(["--time"], defs), /flag needs an argument: --time/);
  assert.throws(() => parseFlags(["-t", "abc"], defs), /invalid argument "abc" for "-t, --time" flag/);
  assert.equal(parseFlags(["--help"], defs).help, true);
  assert.equal(parseFlags(["-h"], defs).help, true);
  assert.equal(parseFlags(["-h", "host"], runDefs).flags.string("hostname"), "host");
  assert.deepEqual(parseFlags(["-"], defs).args, ["-"]);
});
