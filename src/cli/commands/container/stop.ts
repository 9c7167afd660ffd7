import type { Command } from "../../command.js";
import { int, string, type Flags } from "../../flags.js";
import { forEachArg } from "../../for-each.js";

/** The flags `stop` and `restart` share: how the container is stopped. */
export const stopFlags = {
  signal: string("s", "Signal to send to the container"),
  timeout: int("t", "Seconds to wait before killing the container"),
  time: int("", "Seconds to wait before killing the container (deprecated: use --timeout)", { hidden: true }),
};

export function stopOptions(flags: Flags): { timeout?: number; signal?: string } {
  const timeout = flags.changed("timeout") ? flags.int("timeout") : flags.changed("time") ? flags.int("time") : undefined;
  return { timeout, signal: flags.string("signal") || undefined };
}

export const stop: Command = {
  name: "container stop",
  summary: "Stop one or more running containers",
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  minArgs: 1,
  flags: stopFlags,
  async run({ client, args, flags, out }) {
    await forEachArg(args, out, (id) => client.containers.stop(id, stopOptions(flags)));
  },
};
