import type { Command } from "../../command.js";
import { bool, string, strings } from "../../flags.js";
import { invalidArgument } from "../../../errdefs/index.js";
import { parseReference, referenceName } from "../../../spec/reference.js";

export const commit: Command = {
  name: "container commit",
  summary: "Create a new image from a container's changes",
  usage: "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
  minArgs: 1,
  maxArgs: 2,
  flags: {
    author: string("a", 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")'),
    change: strings("c", "Apply Dockerfile instruction to the created image"),
    message: string("m", "Commit message"),
    pause: bool("p", "Pause container during commit", { default: true }),
    "no-pause": bool("", "Disable pausing container during commit"),
  },
  async run({ client, args, flags, out }) {
    let repo: string | undefined, tag: string | undefined;
    if (args[1]) {
      const ref = parseReference(args[1]);
      if (ref.digest) throw invalidArgument("refusing to create a tag with a digest reference");
      repo = referenceName(ref);
      tag = ref.tag ?? undefined;
    }
    const r = await client.containers.commit(args[0]!, {
      repo, tag, comment: flags.string("message") || undefined, author: flags.string("author") || undefined,
      pause: flags.bool("pause") && !flags.bool("no-pause"), changes: flags.strings("change"),
    });
    out.line(r.Id);
  },
};
