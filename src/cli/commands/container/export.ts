import { createWriteStream } from "node:fs";
import { rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
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
    if (!output && out.isTTY) throw new StatusError("cowardly refusing to save to a terminal. Use the -o flag or redirect", 1);
    const res = await client.containers.export(args[0]!);
    if (!output) { await pipeline(res, out.stdout, { end: false }); return; }
    const tmp = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
    try {
      await pipeline(res, createWriteStream(tmp, { mode: 0o644 }));
      await rename(tmp, output);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
  },
};
