import type { BerthClient } from "../client/client.js";
import type { DaemonHost } from "../client/host.js";
import type { FlagDefs, Flags } from "./flags.js";
import type { Output } from "./output/output.js";

export interface CommandContext {
  args: string[];
  flags: Flags;
  out: Output;
  /** The connected client (made on first use, so commands that never talk to the daemon stay fast). */
  readonly client: BerthClient;
  host: DaemonHost;
  stdin: NodeJS.ReadStream;
  env: NodeJS.ProcessEnv;
  /** "berth run", for messages. */
  commandPath: string;
}

export interface Command {
  /** Canonical name ("container rm"); the registry lists the aliases that dispatch here. */
  name: string;
  summary: string;
  /** What follows the command name in "Usage:". */
  usage: string;
  flags: FlagDefs;
  minArgs?: number;
  maxArgs?: number;
  /** false: flags end at the first positional argument (run, create, exec). */
  interspersed?: boolean;
  /** Errors exit 125 with "berth: " and a hint, like docker run/create. */
  runLike?: boolean;
  run(ctx: CommandContext): Promise<number | void>;
}

/** An error with its own exit status (docker's cli.StatusError). */
export class StatusError extends Error {
  /** plain: printed as it is, even for run-like commands (docker's own validation errors). */
  constructor(message: string, readonly status: number, readonly plain = false) {
    super(message);
  }
}
