import { createWriteStream } from "node:fs";
import { rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import { StatusError } from "../command.js";
import type { Output } from "../output/output.js";

/** `save` and `export` without -o write a tar to stdout, never to a terminal (docker's check, made before any request). */
export function refuseTerminal(output: string, out: Output): void {
  if (!output && out.isTTY) throw new StatusError("cowardly refusing to save to a terminal. Use the -o flag or redirect", 1);
}

/** Streams an archive to stdout, or to `output` through a temp file and a rename, so a failure never leaves a truncated file. */
export async function writeArchive(archive: Readable, output: string, out: Output): Promise<void> {
  if (!output) {
    await pipeline(archive, out.stdout, { end: false });
    return;
  }
  const tmp = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
  try {
    await pipeline(archive, createWriteStream(tmp, { mode: 0o644 }));
    await rename(tmp, output);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
