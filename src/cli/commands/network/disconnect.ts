import type { Command } from "../../command.js";
import { bool } from "../../flags.js";

export const disconnect: Command = {
  name: "network disconnect",
  summary: "Disconnect a container from a network",
  usage: "[OPTIONS] NETWORK CONTAINER",
  minArgs: 2,
  maxArgs: 2,
  flags: {
    force: bool("f", "Force the container to disconnect from a network"),
  },
  async run({ client, args, flags }) {
    await client.networks.disconnect(args[0]!, args[1]!, { force: flags.bool("force") });
  },
};
