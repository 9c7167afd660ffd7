import type { Writable } from "node:stream";
import type { JsonMessage } from "../../spec/engine.js";
import { messageError } from "../../client/json-messages.js";

/** A failed pull/load/import/push reported inside the stream (errorDetail). */
export class StreamError extends Error {}

/**
 * jsonmessage.DisplayJSONMessagesStream for a non-interactive display: status lines as they come,
 * raw stream text verbatim, aux handed to the caller, progress updates skipped. Throws on errorDetail.
 */
export async function displayJsonMessages(messages: AsyncIterable<JsonMessage>, out: Writable, onAux?: (aux: unknown) => void): Promise<void> {
  for await (const msg of messages) {
    const error = messageError(msg);
    if (error !== undefined) throw new StreamError(error);
    if (msg.aux !== undefined) { onAux?.(msg.aux); continue; }
    if (msg.stream !== undefined) { out.write(msg.stream); continue; }
    if (msg.progressDetail && (msg.progressDetail.current !== undefined || msg.progressDetail.total !== undefined)) continue;
    if (msg.status === undefined) continue;
    out.write(`${msg.id ? `${msg.id}: ` : ""}${msg.status}\n`);
  }
}
