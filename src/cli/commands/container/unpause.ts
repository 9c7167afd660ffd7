import type { Command } from "../../command.js";
import { forEachArg } from "../../for-each.js";

export const unpause: Command = {
  name: "container unpause",
  summary: "Unpause all processes within one or more containers",
  usage: "CONTAINER [CONTAINER...]",
  minArgs: 1,
  flags: {},
  async run({ client, args, out }) {
    await forEachArg(args, out, (id) => client.containers.unpause(id));
  },
};
