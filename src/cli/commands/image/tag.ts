import type { Command } from "../../command.js";
import { invalidArgument } from "../../../errdefs/index.js";
import { parseReference, referenceName } from "../../../spec/reference.js";

export const tag: Command = {
  name: "image tag",
  summary: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
  usage: "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
  minArgs: 2,
  maxArgs: 2,
  flags: {},
  async run({ client, args }) {
    const target = parseReference(args[1]!);
    if (target.digest) throw invalidArgument("refusing to create a tag with a digest reference");
    await client.images.tag(args[0]!, referenceName(target), target.tag ?? "latest");
  },
};
