import type { Command } from "../../command.js";
import { bool } from "../../flags.js";
import { forEachArg } from "../../for-each.js";

export const rm: Command = {
  name: "container rm",
  summary: "Remove one or more containers",
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  minArgs: 1,
  flags: {
    force: bool("f", "Force the removal of a running container (uses SIGKILL)"),
    link: bool("l", "Remove the specified link"),
    volumes: bool("v", "Remove anonymous volumes associated with the container"),
  },
  async run({ client, args, flags, out }) {
    await forEachArg(args, out, (id) => client.containers.remove(id, { force: flags.bool("force"), volumes: flags.bool("volumes"), link: flags.bool("link") }));
  },
};
