import type { Command } from "../../command.js";
import { bool, strings } from "../../flags.js";
import { parseFilterArgs } from "../../../client/filters.js";
import { confirm } from "../../confirm.js";
import { humanSize } from "../../output/units.js";

export const prune: Command = {
  name: "builder prune",
  summary: "Remove build cache",
  usage: "[OPTIONS]",
  maxArgs: 0,
  flags: {
    all: bool("a", "Remove all unused build cache, not just dangling ones"),
    filter: strings("", "Provide filter values (e.g. \"until=24h\")", { valueName: "filter" }),
    force: bool("f", "Do not prompt for confirmation"),
  },
  async run({ client, flags, out, stdin }) {
    const all = flags.bool("all");
    const warning = all ? "WARNING! This will remove all build cache." : "WARNING! This will remove all dangling build cache.";
    if (!flags.bool("force") && !(await confirm(`${warning} Are you sure you want to continue?`, stdin, out.stdout))) return 0;
    const report = await client.build.prune({ all, filters: parseFilterArgs(flags.strings("filter")) });
    let text = "";
    if (report.CachesDeleted?.length) {
      text += "Deleted build cache objects:\n";
      for (const id of report.CachesDeleted) text += `${id}\n`;
      text += "\n";
    }
    out.write(`${text}Total reclaimed space: ${humanSize(report.SpaceReclaimed ?? 0)}\n`);
  },
};
