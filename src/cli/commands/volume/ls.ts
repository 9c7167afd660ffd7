import type { Command } from "../../command.js";
import { bool, string, strings } from "../../flags.js";
import { parseFilterArgs } from "../../../client/filters.js";
import { renderList } from "../../output/list-format.js";
import { VOLUME_HEADERS, VOLUME_TABLE, sortVolumes, volumeContext } from "../../output/volume-context.js";

export const ls: Command = {
  name: "volume ls",
  summary: "List volumes",
  usage: "[OPTIONS]",
  maxArgs: 0,
  flags: {
    cluster: bool("", "Display only cluster volumes, and use cluster volume list formatting", { hidden: true }),
    filter: strings("f", "Provide filter values (e.g. \"dangling=true\")", { valueName: "filter" }),
    format: string("", "Format output using a custom template"),
    quiet: bool("q", "Only display volume names"),
  },
  async run({ client, flags, out }) {
    const res = await client.volumes.list(parseFilterArgs(flags.strings("filter")));
    const volumes = flags.bool("cluster") ? [] : sortVolumes(res.Volumes ?? []);
    let format = flags.string("format");
    if (flags.bool("quiet")) {
      if (format && format !== "table") out.errorLine("WARNING: Ignoring custom format, because both --format and --quiet are set.");
      format = "{{.Name}}";
    }
    out.write(renderList(volumes.map(volumeContext), { format, defaultTable: VOLUME_TABLE, headers: VOLUME_HEADERS }));
    for (const w of res.Warnings ?? []) out.errorLine(w);
  },
};
