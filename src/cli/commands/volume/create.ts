import type { Command } from "../../command.js";
import { string, strings } from "../../flags.js";
import { invalidArgument } from "../../../errdefs/index.js";
import { keyValues } from "../network/ipam-config.js";

export const create: Command = {
  name: "volume create",
  summary: "Create a volume",
  usage: "[OPTIONS] [VOLUME]",
  maxArgs: 1,
  flags: {
    driver: string("d", "Specify volume driver name", { default: "local" }),
    label: strings("", "Set metadata for a volume"),
    name: string("", "Specify volume name", { hidden: true }),
    opt: strings("o", "Set driver specific options", { valueName: "map" }),
  },
  async run({ client, args, flags, out }) {
    const flagName = flags.string("name");
    if (args[0] && flagName && args[0] !== flagName) {
      throw invalidArgument(`conflicting options: cannot specify a volume-name through both --name and as a positional arg`);
    }
    const v = await client.volumes.create({
      Name: args[0] ?? flagName, Driver: flags.string("driver"), DriverOpts: keyValues(flags.strings("opt")), Labels: keyValues(flags.strings("label")),
    });
    out.line(v.Name);
  },
};
