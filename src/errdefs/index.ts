/** The closed set of error kinds. Transports (daemon, client) map kinds to statuses in one place each. */
export type ErrorKind =
  | "invalid-argument"
  | "not-found"
  | "conflict"
  | "already-exists"
  | "not-modified"
  | "unauthorized"
  | "forbidden"
  | "unavailable"
  | "data-loss"
  | "cancelled"
  | "not-implemented"
  | "system";

export class EngineError extends Error {
  constructor(readonly kind: ErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export const invalidArgument = (msg: string, options?: ErrorOptions) => new EngineError("invalid-argument", msg, options);
export const notFound = (msg: string, options?: ErrorOptions) => new EngineError("not-found", msg, options);
export const conflict = (msg: string, options?: ErrorOptions) => new EngineError("conflict", msg, options);
export const alreadyExists = (msg: string, options?: ErrorOptions) => new EngineError("already-exists", msg, options);
export const notModified = (msg = "not modified") => new EngineError("not-modified", msg);
export const unauthorized = (msg: string, options?: ErrorOptions) => new EngineError("unauthorized", msg, options);
export const forbidden = (msg: string, options?: ErrorOptions) => new EngineError("forbidden", msg, options);
export const unavailable = (msg: string, options?: ErrorOptions) => new EngineError("unavailable", msg, options);
export const dataLoss = (msg: string, options?: ErrorOptions) => new EngineError("data-loss", msg, options);
export const cancelled = (msg = "operation cancelled", options?: ErrorOptions) => new EngineError("cancelled", msg, options);
export const notImplemented = (msg: string) => new EngineError("not-implemented", msg);
export const systemError = (msg: string, options?: ErrorOptions) => new EngineError("system", msg, options);

export function kindOf(err: unknown): ErrorKind | undefined {
  return err instanceof EngineError ? err.kind : undefined;
}

export function isKind(err: unknown, kind: ErrorKind): boolean {
  return kindOf(err) === kind;
}

export const isNotFound = (err: unknown) => isKind(err, "not-found");
export const isConflict = (err: unknown) => isKind(err, "conflict");
export const isInvalidArgument = (err: unknown) => isKind(err, "invalid-argument");
