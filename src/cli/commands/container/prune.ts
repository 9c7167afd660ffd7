import type { Command } from "../../command.js";
import { bool, strings } from "../../flags.js";
import { parseFilterArgs } from "../../../client/filters.js";
import { confirm } from "../../confirm.js";
import { humanSize } from "../../output/units.js";

export const prune: Command = {
  name: "container prune",
  summary: "Remove all stopped containers",
  usage: "[OPTIONS]",
  maxArgs: 0,
  flags: {
    filter: strings("", "Provide filter values (e.g. \"until=<timestamp>\")", { valueName: "filter" }),
    force: bool("f", "Do not prompt for confirmation"),
  },
  async run({ client, flags, out, stdin }) {
    if (!flags.bool("force") && !(await confirm("WARNING! This will remove all stopped containers.\nAre you sure you want to continue?", stdin, out.stdout))) return 0;
    const report = await client.containers.prune(parseFilterArgs(flags.strings("filter")));
    let text = "";
    if (report.ContainersDeleted?.length) text += `Deleted Containers:\n${report.ContainersDeleted.join("\n")}\n\n`;
    out.write(`${text}Total reclaimed space: ${humanSize(report.SpaceReclaimed ?? 0)}\n`);
  },
};
