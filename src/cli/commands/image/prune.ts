import type { Command } from "../../command.js";
import { bool, strings } from "../../flags.js";
import { parseFilterArgs } from "../../../client/filters.js";
import { confirm } from "../../confirm.js";
import { humanSize } from "../../output/units.js";

export const prune: Command = {
  name: "image prune",
  summary: "Remove unused images",
  usage: "[OPTIONS]",
  maxArgs: 0,
  flags: {
    all: bool("a", "Remove all unused images, not just dangling ones"),
    filter: strings("", "Provide filter values (e.g. \"until=<timestamp>\")", { valueName: "filter" }),
    force: bool("f", "Do not prompt for confirmation"),
  },
  async run({ client, flags, out, stdin }) {
    const all = flags.bool("all");
    const warning = all
      ? "WARNING! This will remove all images without at least one container associated to them."
      : "WARNING! This will remove all dangling images.";
    if (!flags.bool("force") && !(await confirm(`${warning}\nAre you sure you want to continue?`, stdin, out.stdout))) return 0;
    const filters = parseFilterArgs(flags.strings("filter"));
    filters.dangling = [all ? "false" : "true"];
    const report = await client.images.prune(filters);
    let text = "";
    if (report.ImagesDeleted?.length) {
      text += "Deleted Images:\n";
      for (const d of report.ImagesDeleted) text += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`;
      text += "\n";
    }
    out.write(`${text}Total reclaimed space: ${humanSize(report.SpaceReclaimed ?? 0)}\n`);
  },
};
