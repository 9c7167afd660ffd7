/** The OCI Distribution error codes, each declared once with its HTTP status and default message. */
export const OCI_ERRORS = {
  BLOB_UNKNOWN: [404, "blob unknown to registry"],
  BLOB_UPLOAD_INVALID: [400, "blob upload invalid"],
  BLOB_UPLOAD_UNKNOWN: [404, "blob upload unknown to registry"],
  DIGEST_INVALID: [400, "provided digest did not match uploaded content"],
  MANIFEST_BLOB_UNKNOWN: [400, "manifest references a manifest or blob unknown to registry"],
  MANIFEST_INVALID: [400, "manifest invalid"],
  MANIFEST_UNKNOWN: [404, "manifest unknown"],
  NAME_INVALID: [400, "invalid repository name"],
  NAME_UNKNOWN: [404, "repository name not known to registry"],
  SIZE_INVALID: [400, "provided length did not match content length"],
  TAG_INVALID: [400, "manifest tag did not match URI"],
  UNAUTHORIZED: [401, "authentication required"],
  DENIED: [403, "requested access to the resource is denied"],
  UNSUPPORTED: [405, "The operation is unsupported."],
  TOOMANYREQUESTS: [429, "too many requests"],
  PAGINATION_NUMBER_INVALID: [400, "invalid number of results requested"],
  RANGE_INVALID: [416, "invalid content range"],
  UNKNOWN: [500, "unknown error"],
} as const satisfies Record<string, readonly [number, string]>;

export type OciErrorCode = keyof typeof OCI_ERRORS;

export class OciError extends Error {
  readonly status: number;
  /** Extra response headers (WWW-Authenticate on UNAUTHORIZED). */
  headers: Record<string, string> = {};
  constructor(readonly code: OciErrorCode, message?: string, readonly detail?: unknown, status?: number) {
    super(message ?? OCI_ERRORS[code][1]);
    this.name = "OciError";
    this.status = status ?? OCI_ERRORS[code][0];
  }

  body(): string {
    const e: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.detail !== undefined) e.detail = this.detail;
    return JSON.stringify({ errors: [e] });
  }
}

export const ociError = (code: OciErrorCode, message?: string, detail?: unknown, status?: number) =>
  new OciError(code, message, detail, status);
