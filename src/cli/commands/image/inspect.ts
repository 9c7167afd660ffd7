import type { Command } from "../../command.js";
import { string } from "../../flags.js";
import { runInspect } from "../inspect.js";

export const inspect: Command = {
  name: "image inspect",
  summary: "Display detailed information on one or more images",
  usage: "[OPTIONS] IMAGE [IMAGE...]",
  minArgs: 1,
  flags: { format: string("f", "Format output using a custom template") },
  async run({ client, args, flags, out }) {
    await runInspect(client, out, args, { type: "image", format: flags.string("format") });
  },
};
