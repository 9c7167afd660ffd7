import type { Command } from "../../command.js";
import { tabwrite } from "../../output/tabwriter.js";

export const top: Command = {
  name: "container top",
  summary: "Display the running processes of a container",
  usage: "CONTAINER [ps OPTIONS]",
  minArgs: 1,
  interspersed: false,
  flags: {},
  async run({ client, args, out }) {
    const r = await client.containers.top(args[0]!, args.slice(1).join(" "));
    const lines = [r.Titles.join("\t"), ...r.Processes.map((p) => p.join("\t"))];
    out.write(tabwrite(lines.join("\n") + "\n", { minWidth: 20 }));
  },
};
