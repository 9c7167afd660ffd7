/** Docker's zero time, used for StartedAt/FinishedAt that never happened. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

/** RFC 3339 with nanoseconds from a hrtime-precise source is not needed; ISO millis is accepted by every client. */
export function nowRfc3339(): string {
  return new Date().toISOString();
}
