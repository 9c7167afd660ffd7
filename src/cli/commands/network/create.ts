import type { Command } from "../../command.js";
import { bool, string, strings } from "../../flags.js";
import { invalidArgument } from "../../../errdefs/index.js";
import { consolidateIpam, keyValues } from "./ipam-config.js";

export const create: Command = {
  name: "network create",
  summary: "Create a network",
  usage: "[OPTIONS] NETWORK",
  minArgs: 1,
  maxArgs: 1,
  flags: {
    attachable: bool("", "Enable manual container attachment"),
    "aux-address": strings("", "Auxiliary IPv4 or IPv6 addresses used by Network driver", { valueName: "map" }),
    "config-from": string("", "The network from which to copy the configuration"),
    "config-only": bool("", "Create a configuration only network"),
    driver: string("d", "Driver to manage the Network", { default: "bridge" }),
    gateway: strings("", "IPv4 or IPv6 Gateway for the master subnet", { valueName: "strings" }),
    ingress: bool("", "Create swarm routing-mesh network"),
    internal: bool("", "Restrict external access to the network"),
    "ip-range": strings("", "Allocate container ip from a sub-range", { valueName: "strings" }),
    "ipam-driver": string("", "IP Address Management Driver", { default: "default" }),
    "ipam-opt": strings("", "Set IPAM driver specific options", { valueName: "map" }),
    ipv4: bool("", "Enable or disable IPv4 address assignment", { default: true }),
    ipv6: bool("", "Enable or disable IPv6 address assignment"),
    label: strings("", "Set metadata on a network"),
    opt: strings("o", "Set driver specific options", { valueName: "map" }),
    scope: string("", "Control the network's scope"),
    subnet: strings("", "Subnet in CIDR format that represents a network segment", { valueName: "strings" }),
  },
  async run({ client, args, flags, out }) {
    const split = (name: string) => flags.strings(name).flatMap((v) => v.split(",")).filter(Boolean);
    const config = consolidateIpam(split("subnet"), split("ip-range"), split("gateway"), keyValues(flags.strings("aux-address")));
    const configFrom = flags.string("config-from");
    if (configFrom && (config.length || flags.strings("opt").length)) throw invalidArgument("conflicting options: cannot specify both --config-from and network configuration");
    const res = await client.networks.create({
      Name: args[0]!,
      Driver: flags.string("driver"),
      Options: keyValues(flags.strings("opt")),
      IPAM: { Driver: flags.string("ipam-driver"), Config: config, Options: keyValues(flags.strings("ipam-opt")) },
      Internal: flags.bool("internal"),
      ...(flags.changed("ipv4") ? { EnableIPv4: flags.bool("ipv4") } : {}),
      ...(flags.changed("ipv6") ? { EnableIPv6: flags.bool("ipv6") } : {}),
      Attachable: flags.bool("attachable"),
      Ingress: flags.bool("ingress"),
      Scope: flags.string("scope"),
      ConfigOnly: flags.bool("config-only"),
      ...(configFrom ? { ConfigFrom: { Network: configFrom } } : {}),
      Labels: keyValues(flags.strings("label")),
    });
    if (res.Warning) out.errorLine(res.Warning);
    out.line(res.Id);
  },
};
