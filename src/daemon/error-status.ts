import { EngineError, type ErrorKind } from "../errdefs/index.js";

/** The only place where error kinds meet HTTP statuses; client/ mirrors it. */
const STATUS = {
  "invalid-argument": 400,
  unauthorized: 401,
  forbidden: 403,
  "not-found": 404,
  conflict: 409,
  "already-exists": 409,
  "not-modified": 304,
  "not-implemented": 501,
  unavailable: 503,
  cancelled: 499,
  "data-loss": 500,
  system: 500,
} satisfies Record<ErrorKind, number>;

export function statusOf(err: unknown): number {
  return err instanceof EngineError ? STATUS[err.kind] : 500;
}

/** The client went away: nothing should be written. */
export function isCancelled(err: unknown): boolean {
  if (err instanceof EngineError) return err.kind === "cancelled";
  return err instanceof Error && err.name === "AbortError";
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
