import type { Command } from "../../command.js";
import { bool, strings } from "../../flags.js";
import { parseFilterArgs } from "../../../client/filters.js";
import { confirm } from "../../confirm.js";

export const prune: Command = {
  name: "network prune",
  summary: "Remove all unused networks",
  usage: "[OPTIONS]",
  maxArgs: 0,
  flags: {
    filter: strings("", "Provide filter values (e.g. \"until=<timestamp>\")", { valueName: "filter" }),
    force: bool("f", "Do not prompt for confirmation"),
  },
  async run({ client, flags, out, stdin }) {
    const warning = "WARNING! This will remove all custom networks not used by at least one container.";
    if (!flags.bool("force") && !(await confirm(`${warning}\nAre you sure you want to continue?`, stdin, out.stdout))) return 0;
    const report = await client.networks.prune(parseFilterArgs(flags.strings("filter")));
    if (report.NetworksDeleted?.length) out.write(`Deleted Networks:\n${report.NetworksDeleted.join("\n")}\n`);
  },
};
