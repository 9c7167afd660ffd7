import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
import { bool, string } from "../../flags.js";
import { describeError } from "../../describe-error.js";
import { renderInspect } from "../../output/inspect-output.js";
import { sortMapFields } from "../../output/sorted-maps.js";

const MAPS = [["Labels"], ["Options"], ["Containers"], ["IPAM", "Options"]];

export const inspect: Command = {
  name: "network inspect",
  summary: "Display detailed information on one or more networks",
  usage: "[OPTIONS] NETWORK [NETWORK...]",
  minArgs: 1,
  flags: {
    format: string("f", "Format output using a custom template"),
    verbose: bool("v", "Verbose output for diagnostics"),
  },
  async run({ client, args, flags, out }) {
    const found: unknown[] = [];
    const errors: string[] = [];
    for (const ref of args) {
      try { found.push(sortMapFields(await client.networks.inspect(ref, { verbose: flags.bool("verbose") }), MAPS)); } catch (err) { errors.push(describeError(err)); }
    }
    out.write(renderInspect(found, flags.string("format")));
    for (const e of errors) out.errorLine(e);
    if (errors.length) throw new StatusError("", 1);
  },
};
