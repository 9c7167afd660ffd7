import type { Command } from "../../command.js";
import { bool, strings } from "../../flags.js";
import { parseFilterArgs } from "../../../client/filters.js";
import { invalidArgument } from "../../../errdefs/index.js";
import { confirm } from "../../confirm.js";
import { humanSize } from "../../output/units.js";

export const prune: Command = {
  name: "volume prune",
  summary: "Remove unused local volumes",
  usage: "[OPTIONS]",
  maxArgs: 0,
  flags: {
    all: bool("a", "Remove all unused volumes, not just anonymous ones"),
    filter: strings("", "Provide filter values (e.g. \"label=<label>\")", { valueName: "filter" }),
    force: bool("f", "Do not prompt for confirmation"),
  },
  async run({ client, flags, out, stdin }) {
    const filters = parseFilterArgs(flags.strings("filter"));
    const all = flags.bool("all");
    if (all && filters.all) throw invalidArgument("conflicting options: cannot specify both --all and --filter all=1");
    if (all) filters.all = ["true"];
    const warning = all || filters.all?.some((v) => v === "1" || v === "true")
      ? "WARNING! This will remove all local volumes not used by at least one container."
      : "WARNING! This will remove anonymous local volumes not used by at least one container.";
    if (!flags.bool("force") && !(await confirm(`${warning}\nAre you sure you want to continue?`, stdin, out.stdout))) return 0;
    const report = await client.volumes.prune(filters);
    let text = "";
    if (report.VolumesDeleted?.length) text += `Deleted Volumes:\n${report.VolumesDeleted.join("\n")}\n\n`;
    out.write(`${text}Total reclaimed space: ${humanSize(report.SpaceReclaimed ?? 0)}\n`);
  },
};
