import { createWriteStream } from "node:fs";
import { rename, unlink } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
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
    if (!output && out.isTTY) throw new StatusError("cowardly refusing to save to a terminal. Use the -o flag or redirect", 1);
    const res = await client.images.save(args);
    if (!output) {
      await pipeline(res, out.stdout, { end: false });
      return;
    }
    // write next to the target and rename, so a failed save never leaves a truncated archive
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
