import type { Command } from "../../command.js";
import { bool, string } from "../../flags.js";
import { formatReference, parseReference, referenceName } from "../../../spec/reference.js";
import { displayJsonMessages } from "../../output/json-progress.js";
import { invalidArgument } from "../../../errdefs/index.js";
import { registryAuthFor } from "../../credential-store.js";

export const pull: Command = {
  name: "image pull",
  summary: "Download an image from a registry",
  usage: "[OPTIONS] NAME[:TAG|@DIGEST]",
  minArgs: 1,
  maxArgs: 1,
  flags: {
    "all-tags": bool("a", "Download all tagged images in the repository"),
    platform: string("", "Set platform if server is multi-platform capable"),
    quiet: bool("q", "Suppress verbose output"),
  },
  async run({ client, args, flags, out, env }) {
    const ref = parseReference(args[0]!);
    if (flags.bool("all-tags")) {
      if (ref.tag || ref.digest) throw invalidArgument("tag can't be used with --all-tags/-a");
    } else if (!ref.tag && !ref.digest) {
      ref.tag = "latest";
      if (!flags.bool("quiet")) out.line("Using default tag: latest");
    }
    const authConfig = await registryAuthFor(args[0]!, env);
    const messages = await client.images.pull(referenceName(ref), {
      tag: ref.digest ?? ref.tag ?? undefined, platform: flags.string("platform") || undefined, ...(authConfig ? { authConfig } : {}),
    });
    if (flags.bool("quiet")) {
      for await (const m of messages) if (m.errorDetail || m.error) throw new Error(m.errorDetail?.message ?? m.error);
    } else {
      await displayJsonMessages(messages, out.stdout);
    }
    out.line(formatReference(ref));
  },
};
