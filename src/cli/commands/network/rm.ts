import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
import { bool } from "../../flags.js";
import { describeError } from "../../describe-error.js";
import { isNotFound } from "../../../errdefs/index.js";

export const rm: Command = {
  name: "network rm",
  summary: "Remove one or more networks",
  usage: "NETWORK [NETWORK...]",
  minArgs: 1,
  flags: {
    force: bool("f", "Do not error if the network does not exist"),
  },
  async run({ client, args, flags, out }) {
    let failed = false;
    for (const ref of args) {
      try {
        await client.networks.remove(ref);
        out.line(ref);
      } catch (err) {
        if (flags.bool("force") && isNotFound(err)) continue;
        out.errorLine(describeError(err));
        failed = true;
      }
    }
    if (failed) throw new StatusError("", 1);
  },
};
