import type { Command } from "../../command.js";
import { int, string, strings } from "../../flags.js";
import { keyValues } from "./ipam-config.js";

export const connect: Command = {
  name: "network connect",
  summary: "Connect a container to a network",
  usage: "[OPTIONS] NETWORK CONTAINER",
  minArgs: 2,
  maxArgs: 2,
  flags: {
    alias: strings("", "Add network-scoped alias for the container", { valueName: "strings" }),
    "driver-opt": strings("", "driver options for the network", { valueName: "strings" }),
    "gw-priority": int("", "Highest gw-priority provides the default gateway. Accepts positive and negative values."),
    ip: string("", "IPv4 address (e.g., \"172.30.100.104\")"),
    ip6: string("", "IPv6 address (e.g., \"2001:db8::33\")"),
    link: strings("", "Add link to another container"),
    "link-local-ip": strings("", "Add a link-local address for the container", { valueName: "strings" }),
  },
  async run({ client, args, flags }) {
    const split = (name: string) => flags.strings(name).flatMap((v) => v.split(",")).filter(Boolean);
    const ip = flags.string("ip"), ip6 = flags.string("ip6"), lla = split("link-local-ip");
    await client.networks.connect(args[0]!, args[1]!, {
      IPAMConfig: ip || ip6 || lla.length ? { IPv4Address: ip, IPv6Address: ip6, LinkLocalIPs: lla } : null,
      Links: flags.strings("link"),
      Aliases: split("alias"),
      DriverOpts: keyValues(split("driver-opt")),
    });
  },
};
