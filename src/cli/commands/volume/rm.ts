import type { Command } from "../../command.js";
import { bool } from "../../flags.js";
import { forEachArg } from "../../for-each.js";

export const rm: Command = {
  name: "volume rm",
  summary: "Remove one or more volumes",
  usage: "[OPTIONS] VOLUME [VOLUME...]",
  minArgs: 1,
  flags: {
    force: bool("f", "Force the removal of one or more volumes"),
  },
  async run({ client, args, flags, out }) {
    await forEachArg(args, out, (name) => client.volumes.remove(name, { force: flags.bool("force") }));
  },
};
