import { openSync, writeSync, closeSync, unlinkSync } from "node:fs";
import { isNotFound, invalidArgument } from "../errdefs/index.js";
import { familiarString, parseReference, referenceName } from "../spec/reference.js";
import type { BerthClient } from "../client/client.js";
import type { CreatePlan } from "./container-options.js";
import type { Output } from "./output/output.js";
import { displayJsonMessages } from "./output/json-progress.js";

/** Pulls ref, printing progress to `to` unless quiet. */
export async function pullImage(client: BerthClient, ref: string, opts: { platform?: string; quiet?: boolean; to: NodeJS.WritableStream & { write(s: string): boolean } }): Promise<void> {
  const parsed = parseReference(ref);
  const tag = parsed.digest ?? parsed.tag ?? "latest";
  const messages = await client.images.pull(referenceName(parsed), { tag, platform: opts.platform });
  if (opts.quiet) { for await (const m of messages) { if (m.errorDetail || m.error) throw new Error(m.errorDetail?.message ?? m.error); } return; }
  await displayJsonMessages(messages, opts.to as never);
}

/** docker's createContainer: pulls a missing image (per --pull), writes --cidfile, prints warnings. Returns the id. */
export async function createContainer(client: BerthClient, out: Output, plan: CreatePlan, opts: { pull: string; quiet: boolean; cidfile: string }): Promise<string> {
  if (!["always", "missing", "never"].includes(opts.pull)) throw invalidArgument(`invalid pull option: '${opts.pull}': must be one of "always", "missing" or "never"`);
  let cidFd: number | undefined;
  if (opts.cidfile) {
    try {
      cidFd = openSync(opts.cidfile, "wx", 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") throw invalidArgument(`container ID file found, make sure the other container isn't running or delete ${opts.cidfile}`);
      throw invalidArgument(`failed to create the container ID file: ${(err as Error).message}`);
    }
  }
  try {
    let tagged: string | undefined;
    try {
      const ref = parseReference(plan.image);
      tagged = familiarString(ref.tag === null && ref.digest === null ? { ...ref, tag: "latest" } : ref);
    } catch { /* an image id or a bad reference: the daemon will say */ }
    if (opts.pull === "always" && tagged) await pullImage(client, tagged, { platform: plan.platform, quiet: opts.quiet, to: out.stderr as never });
    let created;
    try {
      created = await client.containers.create(plan.body, { name: plan.name, platform: plan.platform });
    } catch (err) {
      if (!isNotFound(err) || !tagged || opts.pull === "never" || !/image/i.test((err as Error).message)) throw err;
      out.errorLine(`Unable to find image '${tagged}' locally`);
      await pullImage(client, tagged, { platform: plan.platform, quiet: opts.quiet, to: out.stderr as never });
      created = await client.containers.create(plan.body, { name: plan.name, platform: plan.platform });
    }
    for (const w of created.Warnings ?? []) out.errorLine(`WARNING: ${w}`);
    if (cidFd !== undefined) writeSync(cidFd, created.Id);
    return created.Id;
  } catch (err) {
    if (cidFd !== undefined) { closeSync(cidFd); cidFd = undefined; unlinkSync(opts.cidfile); }
    throw err;
  } finally {
    if (cidFd !== undefined) closeSync(cidFd);
  }
}
