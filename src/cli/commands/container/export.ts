import type { Command } from "../../command.js";
import { refuseTerminal, writeArchive } from "../../archive/write-archive.js";
import { string } from "../../flags.js";

export const exportCommand: Command = {
  name: "container export",
  summary: "Export a container's filesystem as a tar archive",
  usage: "[OPTIONS] CONTAINER",
  minArgs: 1,
  maxArgs: 1,
  flags: { output: string("o", "Write to a file, instead of STDOUT") },
  async run({ client, args, flags, out }) {
    const output = flags.string("output");
    refuseTerminal(output, out);
    const res = await client.containers.export(args[0]!);
    await writeArchive(res, output, out);
  },
};
