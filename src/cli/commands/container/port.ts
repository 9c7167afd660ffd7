import type { Command } from "../../command.js";
import { invalidArgument } from "../../../errdefs/index.js";

export const port: Command = {
  name: "container port",
  summary: "List port mappings or a specific mapping for the container",
  usage: "CONTAINER [PRIVATE_PORT[/PROTO]]",
  minArgs: 1,
  maxArgs: 2,
  flags: {},
  async run({ client, args, out }) {
    const c = await client.containers.inspect(args[0]!);
    const ports = c.NetworkSettings?.Ports ?? {};
    const fmt = (b: { HostIp?: string; HostPort?: string }) => `${(b.HostIp ?? "").includes(":") ? `[${b.HostIp}]` : b.HostIp || "0.0.0.0"}:${b.HostPort ?? ""}`;
    if (args[1]) {
      const [p, proto = "tcp"] = args[1].split("/");
      const key = `${p}/${proto}`;
      const bindings = ports[key];
      if (!bindings?.length) throw invalidArgument(`Error: No public port '${key}' published for ${args[0]}`);
      for (const b of bindings) out.line(fmt(b));
      return;
    }
    const keys = Object.keys(ports).sort((a, b) => Number.parseInt(a) - Number.parseInt(b) || a.localeCompare(b));
    for (const key of keys) for (const b of ports[key] ?? []) out.line(`${key} -> ${fmt(b)}`);
  },
};
