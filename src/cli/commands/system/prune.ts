import type { Command } from "../../command.js";
import { bool, strings } from "../../flags.js";
import { parseFilterArgs } from "../../../client/filters.js";
import { isKind } from "../../../errdefs/index.js";
import { confirm } from "../../confirm.js";
import { humanSize } from "../../output/units.js";

/** not-found / not-implemented: the daemon has no such resource yet; nothing to prune there. */
async function optional<T>(p: Promise<T>): Promise<T | undefined> {
  try { return await p; } catch (err) { if (isKind(err, "not-found") || isKind(err, "not-implemented")) return undefined; throw err; }
}

export const prune: Command = {
  name: "system prune",
  summary: "Remove unused data",
  usage: "[OPTIONS]",
  maxArgs: 0,
  flags: {
    all: bool("a", "Remove all unused images not just dangling ones"),
    filter: strings("", "Provide filter values (e.g. \"label=<key>=<value>\")", { valueName: "filter" }),
    force: bool("f", "Do not prompt for confirmation"),
    volumes: bool("", "Prune anonymous volumes"),
  },
  async run({ client, flags, out, stdin }) {
    const all = flags.bool("all");
    const warning = ["WARNING! This will remove:", "  - all stopped containers", "  - all networks not used by at least one container",
      ...(flags.bool("volumes") ? ["  - all anonymous volumes not used by at least one container"] : []),
      all ? "  - all images without at least one container associated to them" : "  - all dangling images",
      all ? "  - all build cache" : "  - unused build cache", ""].join("\n");
    if (!flags.bool("force") && !(await confirm(`${warning}\nAre you sure you want to continue?`, stdin, out.stdout))) return 0;
    const filters = parseFilterArgs(flags.strings("filter"));
    let space = 0;
    let text = "";
    const containers = await client.containers.prune(filters);
    space += containers.SpaceReclaimed ?? 0;
    if (containers.ContainersDeleted?.length) text += `Deleted Containers:\n${containers.ContainersDeleted.join("\n")}\n\n`;
    const networks = await optional(client.networks.prune(filters));
    if (networks?.NetworksDeleted?.length) text += `Deleted Networks:\n${networks.NetworksDeleted.join("\n")}\n\n`;
    if (flags.bool("volumes")) {
      const volumes = await optional(client.volumes.prune(filters));
      space += volumes?.SpaceReclaimed ?? 0;
      if (volumes?.VolumesDeleted?.length) text += `Deleted Volumes:\n${volumes.VolumesDeleted.join("\n")}\n\n`;
    }
    const images = await client.images.prune({ ...filters, dangling: [all ? "false" : "true"] });
    space += images.SpaceReclaimed ?? 0;
    if (images.ImagesDeleted?.length) {
      text += "Deleted Images:\n";
      for (const d of images.ImagesDeleted) text += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`;
      text += "\n";
    }
    const cache = await optional(client.build.prune({ all, filters }));
    space += cache?.SpaceReclaimed ?? 0;
    if (cache?.CachesDeleted?.length) text += `Deleted build cache objects:\n${cache.CachesDeleted.join("\n")}\n\n`;
    out.write(`${text}Total reclaimed space: ${humanSize(space)}\n`);
  },
};
