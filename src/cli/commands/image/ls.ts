import type { Command } from "../../command.js";
import { bool, string, strings } from "../../flags.js";
import { parseFilterArgs } from "../../../client/filters.js";
import { IMAGE_HEADERS, IMAGE_TABLE, IMAGE_TABLE_DIGESTS, imageContexts } from "../../output/image-context.js";
import { renderList } from "../../output/list-format.js";

export const ls: Command = {
  name: "image ls",
  summary: "List images",
  usage: "[OPTIONS] [REPOSITORY[:TAG]]",
  maxArgs: 1,
  flags: {
    all: bool("a", "Show all images (default hides intermediate images)"),
    digests: bool("", "Show digests"),
    filter: strings("f", "Filter output based on conditions provided", { valueName: "filter" }),
    format: string("", "Format output using a custom template"),
    "no-trunc": bool("", "Don't truncate output"),
    quiet: bool("q", "Only show image IDs"),
  },
  async run({ client, args, flags, out }) {
    const filters = parseFilterArgs(flags.strings("filter"));
    if (args[0]) (filters.reference ??= []).push(args[0]);
    const images = await client.images.list({ all: flags.bool("all"), digests: flags.bool("digests"), filters });
    const digests = flags.bool("digests");
    let rows = imageContexts(images, { trunc: !flags.bool("no-trunc"), digests });
    if (flags.bool("quiet")) {
      // one line per image, not per tag
      const seen = new Set<string>();
      rows = rows.filter((r) => { const id = String(r.fields.ID!()); if (seen.has(id)) return false; seen.add(id); return true; });
    }
    out.write(renderList(rows, {
      format: flags.string("format"), quiet: flags.bool("quiet"),
      defaultTable: digests ? IMAGE_TABLE_DIGESTS : IMAGE_TABLE, headers: IMAGE_HEADERS, warn: (m) => out.errorLine(m),
    }));
  },
};
