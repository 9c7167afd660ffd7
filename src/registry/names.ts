import { ociError } from "./oci-error.js";

const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const ANY_DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function checkName(name: string): string {
  if (name.length > 255 || !NAME_RE.test(name)) throw ociError("NAME_INVALID", "invalid repository name", { name });
  return name;
}

export function isTag(s: string): boolean {
  return TAG_RE.test(s);
}

export function isSha256(s: string): s is `sha256:${string}` {
  return DIGEST_RE.test(s);
}

/** A digest we can store: sha256 only. Other well-formed algorithms are UNSUPPORTED-ish, reported as DIGEST_INVALID. */
export function checkDigest(s: string): `sha256:${string}` {
  if (isSha256(s)) return s;
  if (ANY_DIGEST_RE.test(s)) throw ociError("DIGEST_INVALID", `unsupported digest algorithm: ${s.split(":")[0]}`, { digest: s });
  throw ociError("DIGEST_INVALID", "invalid digest", { digest: s });
}
