import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
import { bool } from "../../flags.js";
import { describeError } from "../../describe-error.js";

export const rm: Command = {
  name: "image rm",
  summary: "Remove one or more images",
  usage: "[OPTIONS] IMAGE [IMAGE...]",
  minArgs: 1,
  flags: {
    force: bool("f", "Force removal of the image"),
    "no-prune": bool("", "Do not delete untagged parents"),
  },
  async run({ client, args, flags, out }) {
    const errors: string[] = [];
    for (const ref of args) {
      try {
        const items = await client.images.remove(ref, { force: flags.bool("force"), noprune: flags.bool("no-prune") });
        for (const item of items ?? []) {
          if ("Untagged" in item && item.Untagged) out.line(`Untagged: ${item.Untagged}`);
          else if ("Deleted" in item && item.Deleted) out.line(`Deleted: ${item.Deleted}`);
        }
      } catch (err) {
        errors.push(describeError(err));
      }
    }
    if (errors.length) throw new StatusError(errors.join("\n"), 1);
  },
};
