import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import type { Command } from "../../command.js";
import { string, strings } from "../../flags.js";
import { invalidArgument, notImplemented } from "../../../errdefs/index.js";
import { parseReference } from "../../../spec/reference.js";
import { displayJsonMessages } from "../../output/json-progress.js";

export const importCommand: Command = {
  name: "image import",
  summary: "Import the contents from a tarball to create a filesystem image",
  usage: "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
  minArgs: 1,
  flags: {
    change: strings("c", "Apply Dockerfile instruction to the created image"),
    message: string("m", "Set commit message for imported image"),
    platform: string("", "Set platform if server is multi-platform capable"),
  },
  async run({ client, args, flags, out, stdin }) {
    const [source, ref] = args as [string, string | undefined];
    if (ref) parseReference(ref);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) throw notImplemented("importing from a URL is not implemented yet: download the file and import it");
    let tar: Readable;
    if (source === "-") tar = stdin;
    else {
      tar = createReadStream(source);
      await new Promise<void>((resolve, reject) => {
        tar.once("open", () => resolve());
        tar.once("error", (err: NodeJS.ErrnoException) => reject(invalidArgument(`open ${source}: ${err.code === "ENOENT" ? "no such file or directory" : err.message}`)));
      });
    }
    const messages = await client.images.import(tar, {
      repo: ref, message: flags.string("message") || undefined, changes: flags.strings("change"), platform: flags.string("platform") || undefined,
    });
    await displayJsonMessages(messages, out.stdout);
  },
};
