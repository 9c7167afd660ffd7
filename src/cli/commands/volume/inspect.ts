import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
import { string } from "../../flags.js";
import { describeError } from "../../describe-error.js";
import { renderInspect } from "../../output/inspect-output.js";
import { sortMapFields } from "../../output/sorted-maps.js";

const MAPS = [["Labels"], ["Options"], ["Status"]];

export const inspect: Command = {
  name: "volume inspect",
  summary: "Display detailed information on one or more volumes",
  usage: "[OPTIONS] VOLUME [VOLUME...]",
  minArgs: 1,
  flags: {
    format: string("f", "Format output using a custom template"),
  },
  async run({ client, args, flags, out }) {
    const found: unknown[] = [];
    const errors: string[] = [];
    for (const name of args) {
      try { found.push(sortMapFields(await client.volumes.inspect(name), MAPS)); } catch (err) { errors.push(describeError(err)); }
    }
    out.write(renderInspect(found, flags.string("format")));
    for (const e of errors) out.errorLine(e);
    if (errors.length) throw new StatusError("", 1);
  },
};
