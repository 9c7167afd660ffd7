import type { Command } from "../../command.js";
import { bool, string, strings } from "../../flags.js";
import { parseFilterArgs } from "../../../client/filters.js";
import { renderList } from "../../output/list-format.js";
import { NETWORK_HEADERS, NETWORK_TABLE, networkContext, sortNetworks } from "../../output/network-context.js";

export const ls: Command = {
  name: "network ls",
  summary: "List networks",
  usage: "[OPTIONS]",
  maxArgs: 0,
  flags: {
    filter: strings("f", "Provide filter values (e.g. \"driver=bridge\")", { valueName: "filter" }),
    format: string("", "Format output using a custom template"),
    "no-trunc": bool("", "Do not truncate the output"),
    quiet: bool("q", "Only display network IDs"),
  },
  async run({ client, flags, out }) {
    const networks = sortNetworks(await client.networks.list(parseFilterArgs(flags.strings("filter"))));
    const trunc = !flags.bool("no-trunc");
    out.write(renderList(networks.map((n) => networkContext(n, { trunc })), {
      format: flags.string("format"), quiet: flags.bool("quiet"), defaultTable: NETWORK_TABLE, headers: NETWORK_HEADERS, warn: (m) => out.errorLine(m),
    }));
  },
};
