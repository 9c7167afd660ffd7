import { readFile } from "node:fs/promises";
import { StatusError } from "../../command.js";

/**
 * One --secret value, buildx's syntax: id=NAME[,src=PATH|,source=PATH|,env=VAR][,type=file|env].
 * Without src or env, the secret comes from the environment variable named like the id.
 */
export async function parseSecret(spec: string, env: NodeJS.ProcessEnv): Promise<{ id: string; data: Buffer }> {
  const kv = new Map<string, string>();
  for (const part of spec.split(",")) {
    const i = part.indexOf("=");
    if (i < 0) throw new StatusError(`invalid secret "${spec}": expected key=value fields`, 1);
    kv.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1));
  }
  const id = kv.get("id");
  if (!id) throw new StatusError(`invalid secret "${spec}": id is required`, 1);
  const src = kv.get("src") ?? kv.get("source");
  const type = kv.get("type") ?? (kv.has("env") || !src ? "env" : "file");
  if (type === "file") {
    if (!src) throw new StatusError(`invalid secret "${spec}": src is required for a file secret`, 1);
    try {
      return { id, data: await readFile(src) };
    } catch (err) {
      throw new StatusError(`failed to read secret ${id} from ${src}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 1);
    }
  }
  if (type !== "env") throw new StatusError(`invalid secret "${spec}": unsupported type ${type}`, 1);
  const name = kv.get("env") ?? src ?? id;
  const v = env[name];
  if (v === undefined) throw new StatusError(`secret ${id}: environment variable ${name} is not set`, 1);
  return { id, data: Buffer.from(v) };
}
