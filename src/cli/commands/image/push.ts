import type { Command } from "../../command.js";
import { bool } from "../../flags.js";
import { parseReference, referenceName } from "../../../spec/reference.js";
import { displayJsonMessages } from "../../output/json-progress.js";
import { registryAuthFor } from "../../credential-store.js";

export const push: Command = {
  name: "image push",
  summary: "Upload an image to a registry",
  usage: "[OPTIONS] NAME[:TAG]",
  minArgs: 1,
  maxArgs: 1,
  flags: {
    "all-tags": bool("a", "Push all tags of an image to the repository"),
    quiet: bool("q", "Suppress verbose output"),
  },
  async run({ client, args, flags, out, env }) {
    const ref = parseReference(args[0]!);
    if (!ref.tag && !flags.bool("all-tags")) {
      ref.tag = "latest";
      if (!flags.bool("quiet")) out.line("Using default tag: latest");
    }
    const authConfig = await registryAuthFor(args[0]!, env);
    const messages = await client.images.push(referenceName(ref), { tag: ref.tag ?? undefined, ...(authConfig ? { authConfig } : {}) });
    if (flags.bool("quiet")) {
      for await (const m of messages) if (m.errorDetail || m.error) throw new Error(m.errorDetail?.message ?? m.error);
      out.line(args[0]!);
    } else {
      await displayJsonMessages(messages, out.stdout);
    }
  },
};
