import type { Command } from "../../command.js";
import { bool, int, string, strings } from "../../flags.js";
import { parseFilterArgs } from "../../../client/filters.js";
import { CONTAINER_HEADERS, CONTAINER_TABLE, containerContext } from "../../output/container-context.js";
import { renderList } from "../../output/list-format.js";

export const ls: Command = {
  name: "container ls",
  summary: "List containers",
  usage: "[OPTIONS]",
  maxArgs: 0,
  flags: {
    all: bool("a", "Show all containers (default shows just running)"),
    filter: strings("f", "Filter output based on conditions provided", { valueName: "filter" }),
    format: string("", "Format output using a custom template"),
    last: int("n", "Show n last created containers (includes all states)", { default: -1 }),
    latest: bool("l", "Show the latest created container (includes all states)"),
    "no-trunc": bool("", "Don't truncate output"),
    quiet: bool("q", "Only display container IDs"),
    size: bool("s", "Display total file sizes"),
  },
  async run({ client, flags, out }) {
    const format = flags.string("format");
    let limit = flags.int("last");
    if (flags.bool("latest")) limit = 1;
    // like docker: a template that uses .Size (or all fields, through json) asks the daemon for sizes
    const size = flags.changed("size") ? flags.bool("size") : !flags.bool("quiet") && (format.includes(".Size") || format === "json" || /json\s+\.\s*}}/.test(format));
    const list = await client.containers.list({
      all: flags.bool("all") || limit !== -1,
      limit: limit > 0 ? limit : undefined,
      size,
      filters: parseFilterArgs(flags.strings("filter")),
    });
    const trunc = !flags.bool("no-trunc");
    const now = Date.now();
    const defaultTable = flags.bool("size") ? `${CONTAINER_TABLE}\t{{.Size}}` : CONTAINER_TABLE;
    out.write(renderList(list.map((c) => containerContext(c, { trunc, now })), {
      format, quiet: flags.bool("quiet"), defaultTable, headers: CONTAINER_HEADERS, warn: (m) => out.errorLine(m),
    }));
  },
};
