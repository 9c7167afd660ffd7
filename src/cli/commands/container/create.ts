import type { Command } from "../../command.js";
import { buildCreateBody, CREATE_FLAGS } from "../../container-options.js";
import { createContainer } from "../../create-container.js";

export const create: Command = {
  name: "container create",
  summary: "Create a new container",
  usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
  minArgs: 1,
  interspersed: false,
  runLike: true,
  flags: CREATE_FLAGS,
  async run({ client, args, flags, out, env }) {
    const plan = buildCreateBody(flags, args, env);
    const id = await createContainer(client, out, plan, { pull: flags.string("pull"), quiet: flags.bool("quiet"), cidfile: flags.string("cidfile") });
    out.line(id);
  },
};
