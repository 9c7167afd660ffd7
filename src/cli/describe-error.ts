import { ResponseError } from "../client/errors.js";

/** How an error reads on stderr: daemon answers get docker's prefix. */
export function describeError(err: unknown): string {
  if (err instanceof ResponseError) return `Error response from daemon: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
