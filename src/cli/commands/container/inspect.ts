import type { Command } from "../../command.js";
import { bool, string } from "../../flags.js";
import { runInspect } from "../inspect.js";

export const inspect: Command = {
  name: "container inspect",
  summary: "Display detailed information on one or more containers",
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  minArgs: 1,
  flags: {
    format: string("f", "Format output using a custom template"),
    size: bool("s", "Display total file sizes"),
  },
  async run({ client, args, flags, out }) {
    await runInspect(client, out, args, { type: "container", size: flags.bool("size"), format: flags.string("format") });
  },
};
