import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
import { bool, string } from "../../flags.js";
import { invalidArgument } from "../../../errdefs/index.js";
import { displayJsonMessages } from "../../output/json-progress.js";

export const load: Command = {
  name: "image load",
  summary: "Load an image from a tar archive or STDIN",
  usage: "[OPTIONS]",
  maxArgs: 0,
  flags: {
    input: string("i", "Read from tar archive file, instead of STDIN"),
    quiet: bool("q", "Suppress the load output"),
    platform: string("", "Load only the given platform variant"),
  },
  async run({ client, flags, out, stdin }) {
    const input = flags.string("input");
    let tar: Readable;
    if (input) {
      tar = createReadStream(input);
      await new Promise<void>((resolve, reject) => {
        tar.once("open", () => resolve());
        tar.once("error", (err: NodeJS.ErrnoException) => reject(invalidArgument(`open ${input}: ${err.code === "ENOENT" ? "no such file or directory" : err.message}`)));
      });
    } else {
      if (stdin.isTTY) throw new StatusError("requested load from stdin, but stdin is empty", 1);
      tar = stdin;
    }
    const messages = await client.images.load(tar, { quiet: flags.bool("quiet") || !out.isTTY });
    await displayJsonMessages(messages, out.stdout);
  },
};
