import type { Command } from "../../command.js";
import { string } from "../../flags.js";
import { forEachArg } from "../../for-each.js";

export const kill: Command = {
  name: "container kill",
  summary: "Kill one or more running containers",
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  minArgs: 1,
  flags: { signal: string("s", "Signal to send to the container") },
  async run({ client, args, flags, out }) {
    await forEachArg(args, out, (id) => client.containers.kill(id, flags.string("signal") || undefined));
  },
};
