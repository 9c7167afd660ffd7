import type { Command } from "../../command.js";

const KIND = ["C", "A", "D"] as const;

export const diff: Command = {
  name: "container diff",
  summary: "Inspect changes to files or directories on a container's filesystem",
  usage: "CONTAINER",
  minArgs: 1,
  maxArgs: 1,
  flags: {},
  async run({ client, args, out }) {
    for (const c of (await client.containers.changes(args[0]!)) ?? []) out.line(`${KIND[c.Kind] ?? "?"} ${c.Path}`);
  },
};
