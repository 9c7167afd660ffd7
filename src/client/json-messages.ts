import type { Readable } from "node:stream";
import type { JsonMessage } from "../spec/engine.js";

/** Parses a JSON-message stream (pull, push, load, import, build): objects separated by newlines. */
export async function* jsonMessages(src: Readable): AsyncGenerator<JsonMessage> {
  let pending = "";
  src.setEncoding("utf8");
  for await (const chunk of src) {
    pending += chunk as string;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line) yield JSON.parse(line) as JsonMessage;
    }
  }
  const rest = pending.trim();
  if (rest) yield JSON.parse(rest) as JsonMessage;
}

/** An errorDetail (or legacy error) in a message: the operation failed. */
export function messageError(msg: JsonMessage): string | undefined {
  return msg.errorDetail?.message ?? msg.error;
}
