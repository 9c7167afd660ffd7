import type { Command } from "../../command.js";
import { invalidArgument } from "../../../errdefs/index.js";

export const rename: Command = {
  name: "container rename",
  summary: "Rename a container",
  usage: "CONTAINER NEW_NAME",
  minArgs: 2,
  maxArgs: 2,
  flags: {},
  async run({ client, args }) {
    const newName = args[1]!.trim();
    if (!newName) throw invalidArgument("Error: Neither old nor new names may be empty");
    await client.containers.rename(args[0]!, newName);
  },
};
