import { EngineError, type ErrorKind } from "../errdefs/index.js";

/** The mirror of daemon/error-status.ts: HTTP status -> error kind. */
const KIND_BY_STATUS: Record<number, ErrorKind> = {
  304: "not-modified",
  400: "invalid-argument",
  401: "unauthorized",
  403: "forbidden",
  404: "not-found",
  409: "conflict",
  501: "not-implemented",
  503: "unavailable",
};

export function kindForStatus(status: number): ErrorKind {
  return KIND_BY_STATUS[status] ?? "system";
}

/** An error the daemon answered with; the CLI prints it as "Error response from daemon: <message>". */
export class ResponseError extends EngineError {
  constructor(readonly status: number, message: string) {
    super(kindForStatus(status), message);
  }
}

/** Builds the error for a failed response from its body ({"message": ...}, or plain text). */
export function errorFromResponse(status: number, body: string, statusText = ""): ResponseError {
  let message = body.trim();
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object" && typeof (parsed as { message?: unknown }).message === "string") {
      message = (parsed as { message: string }).message;
    }
  } catch {
    // not JSON: keep the text as it came
  }
  if (!message) message = `${status} ${statusText}`.trim();
  return new ResponseError(status, message);
}

/** The daemon is not reachable at all (no socket, refused). */
export class ConnectionError extends EngineError {
  constructor(readonly host: string, cause?: unknown, message?: string) {
    super("unavailable", message ?? `Cannot connect to the Berth daemon at ${host}. Is berthd running?`, { cause });
  }
}
