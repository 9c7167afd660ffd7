import type { Command } from "../../command.js";
import { forEachArg } from "../../for-each.js";
import { stopFlags, stopOptions } from "./stop.js";

export const restart: Command = {
  name: "container restart",
  summary: "Restart one or more containers",
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  minArgs: 1,
  flags: stopFlags,
  async run({ client, args, flags, out }) {
    await forEachArg(args, out, (id) => client.containers.restart(id, stopOptions(flags)));
  },
};
