import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
import { describeError } from "../../describe-error.js";

export const wait: Command = {
  name: "container wait",
  summary: "Block until one or more containers stop, then print their exit codes",
  usage: "CONTAINER [CONTAINER...]",
  minArgs: 1,
  flags: {},
  async run({ client, args, out }) {
    let failed = false;
    for (const id of args) {
      try {
        const r = await client.containers.wait(id, { condition: "not-running" });
        out.line(String(r.StatusCode));
      } catch (err) {
        out.errorLine(describeError(err));
        failed = true;
      }
    }
    if (failed) throw new StatusError("", 1);
  },
};
