import { BerthClient } from "../client/client.js";
import { describeError } from "./describe-error.js";
import { resolveHost, type DaemonHost } from "../client/host.js";
import { EngineError } from "../errdefs/index.js";
import type { Command, CommandContext } from "./command.js";
import { StatusError } from "./command.js";
import { FlagError, flagUsages, parseFlags } from "./flags.js";
import { Output } from "./output/output.js";
import { COMMANDS, GROUPS, lookup, type CommandEntry } from "./registry.js";

const PROG = "berth";

interface GlobalOptions { host?: string; debug: boolean; help: boolean; version: boolean }

/** Global flags come before the command: berth -H unix:///x ps. */
function parseGlobals(argv: string[]): { globals: GlobalOptions; rest: string[] } {
  const globals: GlobalOptions = { debug: false, help: false, version: false };
  const withValue = new Set(["-H", "--host", "-l", "--log-level", "--config", "-c", "--context", "--tlscacert", "--tlscert", "--tlskey"]);
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "-") break;
    if (arg === "--") { i++; break; }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    let name = eq > 0 ? arg.slice(0, eq) : arg;
    let value: string | undefined = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (!arg.startsWith("--") && arg.length > 2) { name = arg.slice(0, 2); value = arg.slice(2).replace(/^=/, ""); }
    if (withValue.has(name)) {
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: ${name.startsWith("--") ? name : `'${name[1]}' in ${name}`}`);
        value = argv[++i]!;
      }
      if (name === "-H" || name === "--host") globals.host = value;
      continue;
    }
    if (name === "-D" || name === "--debug") { globals.debug = true; continue; }
    if (name === "-v" || name === "--version") { globals.version = true; continue; }
    if (name === "-h" || name === "--help") { globals.help = true; continue; }
    if (name === "--tls" || name === "--tlsverify") continue;
    throw new FlagError(name.startsWith("--") ? `unknown flag: ${name}` : `unknown shorthand flag: '${name[1]}' in ${arg}`);
  }
  return { globals, rest: argv.slice(i) };
}

async function readVersion(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function commandHelp(cmd: Command, entry: CommandEntry, invoked: string): string {
  const lines = [`Usage:  ${PROG} ${invoked} ${cmd.usage}`.trimEnd(), "", cmd.summary];
  if (entry.names.length > 1) lines.push("", "Aliases:", `  ${entry.names.map((n) => `${PROG} ${n}`).join(", ")}`);
  const usages = flagUsages(cmd.flags);
  if (usages) lines.push("", "Options:", usages);
  return lines.join("\n") + "\n";
}

async function groupHelp(group: string): Promise<string> {
  const rows: [string, string][] = [];
  for (const e of COMMANDS) {
    const name = e.names.find((n) => n.startsWith(`${group} `));
    if (name) rows.push([name.slice(group.length + 1), (await e.load()).summary]);
  }
  rows.sort((a, b) => a[0].localeCompare(b[0]));
  const w = Math.max(...rows.map(([n]) => n.length));
  return [`Usage:  ${PROG} ${group} COMMAND`, "", GROUPS[group]!, "", "Commands:",
    ...rows.map(([n, s]) => `  ${n.padEnd(w)}   ${s}`), "", `Run '${PROG} ${group} COMMAND --help' for more information on a command.`].join("\n") + "\n";
}

async function topHelp(): Promise<string> {
  const rows: [string, string][] = [];
  for (const e of COMMANDS) {
    const top = e.names.find((n) => !n.includes(" "));
    if (top) rows.push([top, (await e.load()).summary]);
  }
  rows.sort((a, b) => a[0].localeCompare(b[0]));
  const w = Math.max(...rows.map(([n]) => n.length), ...Object.keys(GROUPS).map((g) => g.length));
  return [`Usage:  ${PROG} [OPTIONS] COMMAND`, "", "A container engine that speaks the Docker Engine API", "",
    "Commands:", ...rows.map(([n, s]) => `  ${n.padEnd(w)}   ${s}`), "",
    "Management Commands:", ...Object.entries(GROUPS).map(([g, s]) => `  ${g.padEnd(w)}   ${s}`), "",
    "Global Options:",
    "  -D, --debug          Enable debug mode",
    "  -H, --host string    Daemon socket to connect to (default unix:///run/berth/berth.sock;",
    "                       also BERTH_HOST, DOCKER_HOST)",
    "  -v, --version        Print version information and quit",
    "", `Run '${PROG} COMMAND --help' for more information on a command.`].join("\n") + "\n";
}

/** cobra's positional-argument checks as the docker CLI words them; `see` picks the hint's verb. */
function argCountError(name: string, cmd: Command, n: number): { message: string; see: boolean } | undefined {
  const { minArgs = 0, maxArgs = Infinity } = cmd;
  const plural = (k: number) => `${k} argument${k === 1 ? "" : "s"}`;
  if (minArgs === maxArgs && n !== minArgs) {
    return { message: minArgs === 0 ? `'${PROG} ${name}' accepts no arguments` : `'${PROG} ${name}' requires ${plural(minArgs)}`, see: false };
  }
  if (n < minArgs) return { message: `'${PROG} ${name}' requires at least ${plural(minArgs)}`, see: true };
  if (n > maxArgs && minArgs > 0) return { message: `'${PROG} ${name}' requires at least ${minArgs} and at most ${plural(maxArgs)}`, see: true };
  if (n > maxArgs) return { message: `'${PROG} ${name}' requires at most ${plural(maxArgs)}`, see: false };
  return undefined;
}

async function dispatch(argv: string[], out: Output): Promise<number> {
  let parsedGlobals;
  try {
    parsedGlobals = parseGlobals(argv);
  } catch (err) {
    out.errorLine(`${(err as Error).message}\nSee '${PROG} --help'.`);
    return 125;
  }
  const { globals, rest } = parsedGlobals;
  if (globals.version) { out.line(`Berth version ${await readVersion()}`); return 0; }
  if (globals.help || rest.length === 0) { out.write(await topHelp()); return 0; }
  if (rest[0] === "help") return dispatch([...rest.slice(1), "--help"], out);

  const found = lookup(rest);
  if (!found) {
    if (rest[0]! in GROUPS) {
      const sub = rest[1];
      if (sub === undefined || sub === "--help" || sub === "-h") { out.write(await groupHelp(rest[0]!)); return 0; }
      out.errorLine(`${PROG}: unknown command: ${PROG} ${rest[0]} ${sub}\n\nUsage:  ${PROG} ${rest[0]}\n\nRun '${PROG} ${rest[0]} --help' for more information`);
      return 1;
    }
    out.errorLine(`${PROG}: unknown command: ${PROG} ${rest[0]}\n\nRun '${PROG} --help' for more information`);
    return 1;
  }
  const cmd = await found.entry.load();
  const name = found.name;
  const usageLine = `Usage:  ${PROG} ${name} ${cmd.usage}`.trimEnd();
  let parsed;
  try {
    parsed = parseFlags(rest.slice(found.used), cmd.flags, { interspersed: cmd.interspersed });
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    out.errorLine(`${err.message}\n\n${usageLine}\n\nRun '${PROG} ${name} --help' for more information`);
    return 125;
  }
  if (parsed.help) { out.write(commandHelp(cmd, found.entry, name)); return 0; }
  const countError = argCountError(name, cmd, parsed.args.length);
  if (countError) {
    out.errorLine(`${PROG}: ${countError.message}\n\n${usageLine}\n\n${countError.see ? "See" : "Run"} '${PROG} ${name} --help' for more information`);
    return 1;
  }

  let host: DaemonHost;
  try {
    host = resolveHost(globals.host);
  } catch (err) {
    out.errorLine(describeError(err));
    return 1;
  }
  let client: BerthClient | undefined;
  const ctx: CommandContext = {
    args: parsed.args,
    flags: parsed.flags,
    out,
    get client() { return (client ??= new BerthClient({ host })); },
    host,
    stdin: process.stdin,
    env: process.env,
    commandPath: `${PROG} ${name}`,
  };
  try {
    return (await cmd.run(ctx)) ?? 0;
  } catch (err) {
    if (globals.debug && err instanceof Error && !(err instanceof EngineError)) out.errorLine(err.stack ?? "");
    const status = err instanceof StatusError ? err.status : cmd.runLike ? 125 : 1;
    const message = describeError(err);
    if (cmd.runLike && !(err instanceof StatusError && (!message || err.plain))) {
      out.errorLine(`${PROG}: ${message}\n\nRun '${PROG} ${name} --help' for more information`);
    } else if (message) {
      out.errorLine(message);
    }
    return status;
  } finally {
    client?.close();
  }
}

/** The berth CLI. Exits the process with docker's status codes. */
export async function main(argv: string[]): Promise<void> {
  const out = new Output(process.stdout, process.stderr);
  // a closed pipe (berth ps | head) is not an error worth a stack trace
  process.stdout.on("error", (err: NodeJS.ErrnoException) => { if (err.code === "EPIPE") process.exit(0); });
  let code: number;
  try {
    code = await dispatch(argv, out);
  } catch (err) {
    out.errorLine(describeError(err));
    code = 1;
  }
  await out.flush();
  process.exit(code);
}
