import type { Command } from "../../command.js";
import { refuseTerminal, writeArchive } from "../../archive/write-archive.js";
import { string } from "../../flags.js";

export const save: Command = {
  name: "image save",
  summary: "Save one or more images to a tar archive (streamed to STDOUT by default)",
  usage: "[OPTIONS] IMAGE [IMAGE...]",
  minArgs: 1,
  flags: {
    output: string("o", "Write to a file, instead of STDOUT"),
    platform: string("", "Save only the given platform variant"),
  },
  async run({ client, args, flags, out }) {
    const output = flags.string("output");
    refuseTerminal(output, out);
    const res = await client.images.save(args);
    await writeArchive(res, output, out);
  },
};
