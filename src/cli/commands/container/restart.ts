import type { Command } from "../../command.js";
import { int, string } from "../../flags.js";
import { forEachArg } from "../../for-each.js";

export const restart: Command = {
  name: "container restart",
  summary: "Restart one or more containers",
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  minArgs: 1,
  flags: {
    signal: string("s", "Signal to send to the container"),
    timeout: int("t", "Seconds to wait before killing the container"),
    time: int("", "Seconds to wait before killing the container (deprecated: use --timeout)", { hidden: true }),
  },
  async run({ client, args, flags, out }) {
    const timeout = flags.changed("timeout") ? flags.int("timeout") : flags.changed("time") ? flags.int("time") : undefined;
    await forEachArg(args, out, (id) => client.containers.restart(id, { timeout, signal: flags.string("signal") || undefined }));
  },
};
