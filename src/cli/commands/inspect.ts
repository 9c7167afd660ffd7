import type { Command } from "../command.js";
import { StatusError } from "../command.js";
import { bool, string } from "../flags.js";
import { describeError } from "../describe-error.js";
import { isNotFound, invalidArgument } from "../../errdefs/index.js";
import type { BerthClient } from "../../client/client.js";
import { renderInspect } from "../output/inspect-output.js";

type Kind = "container" | "image";

/** Looks an object up by kind (or container, then image); not-found errors say "No such object". */
export async function inspectObjects(client: BerthClient, names: string[], opts: { type?: string; size?: boolean; format: string }): Promise<{ text: string; errors: string[] }> {
  const kinds: Kind[] = opts.type ? [opts.type as Kind] : ["container", "image"];
  const items: unknown[] = [];
  const errors: string[] = [];
  for (const name of names) {
    let found: unknown;
    let lastError: unknown;
    for (const kind of kinds) {
      try {
        found = kind === "container" ? await client.containers.inspect(name, { size: opts.size }) : await client.images.inspect(name);
        break;
      } catch (err) {
        lastError = err;
        if (!isNotFound(err)) break;
      }
    }
    if (found !== undefined) items.push(found);
    else if (isNotFound(lastError)) errors.push(opts.type ? describeError(lastError) : `Error: No such object: ${name}`);
    else errors.push(describeError(lastError));
  }
  return { text: renderInspect(items, opts.format), errors };
}

export async function runInspect(client: BerthClient, out: import("../output/output.js").Output, names: string[], opts: { type?: string; size?: boolean; format: string }): Promise<void> {
  const { text, errors } = await inspectObjects(client, names, opts);
  out.write(text);
  for (const e of errors) out.errorLine(e);
  if (errors.length) throw new StatusError("", 1);
}

export const inspect: Command = {
  name: "inspect",
  summary: "Return low-level information on Docker objects",
  usage: "[OPTIONS] NAME|ID [NAME|ID...]",
  minArgs: 1,
  flags: {
    format: string("f", "Format output using a custom template"),
    size: bool("s", "Display total file sizes if the type is container"),
    type: string("", "Only inspect objects of the given type"),
  },
  async run({ client, args, flags, out }) {
    const type = flags.string("type");
    if (type && type !== "container" && type !== "image") throw invalidArgument(`"${type}" is not a valid value for --type`);
    await runInspect(client, out, args, { type: type || undefined, size: flags.bool("size"), format: flags.string("format") });
  },
};
