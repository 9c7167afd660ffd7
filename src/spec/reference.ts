/**
 * Docker image references (distribution/reference grammar) and Docker's normalization:
 * "busybox" == "busybox:latest" == "docker.io/library/busybox:latest".
 * Pure data logic, no I/O.
 */
import { invalidArgument } from "../errdefs/index.js";

export const DEFAULT_DOMAIN = "docker.io";
const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const OFFICIAL_PREFIX = "library/";
export const DEFAULT_TAG = "latest";
const NAME_TOTAL_LENGTH_MAX = 255;

const alphanumeric = "[a-z0-9]+";
const separator = "(?:[._]|__|[-]+)";
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tagPat = "[\\w][\\w.-]{0,127}";
const digestPat = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const namePat = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;

const REFERENCE_RE = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const TAG_RE = new RegExp(`^${tagPat}$`);
const DIGEST_RE = new RegExp(`^${digestPat}$`);
const ANCHORED_ID_RE = /^[a-f0-9]{64}$/;

/** A parsed, normalized reference. `tag` and `digest` are null when absent. */
export interface ImageReference {
  domain: string;        // "docker.io", "localhost:5000"
  path: string;          // "library/busybox", "a/b"
  tag: string | null;
  digest: string | null; // "sha256:<hex>"
}

const INVALID = "invalid reference format";

/** Split "host/rest" the way Docker does: the first component is a domain only if it looks like one. */
function splitDomain(name: string): [string, string] {
  const i = name.indexOf("/");
  let domain: string;
  let remainder: string;
  const first = i === -1 ? "" : name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes("/")) remainder = OFFICIAL_PREFIX + remainder;
  return [domain, remainder];
}

/** Parse and normalize (Docker's ParseNormalizedNamed). Throws invalid-argument with Docker's wording. */
export function parseReference(s: string): ImageReference {
  if (ANCHORED_ID_RE.test(s)) {
    throw invalidArgument(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domain, remainder] = splitDomain(s);
  const sep = remainder.search(/[:@]/);
  const remoteName = sep === -1 ? remainder : remainder.slice(0, sep);
  if (remoteName.toLowerCase() !== remoteName) {
    throw invalidArgument(`${INVALID}: repository name (${remoteName}) must be lowercase`);
  }
  const m = REFERENCE_RE.exec(`${domain}/${remainder}`);
  if (!m) throw invalidArgument(INVALID);
  const name = m[1]!;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalidArgument(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const slash = name.indexOf("/");
  return { domain: name.slice(0, slash), path: name.slice(slash + 1), tag: m[2] ?? null, digest: m[3] ?? null };
}

/** Like parseReference, adding ":latest" when there is neither tag nor digest (Docker's TagNameOnly). */
export function parseTaggedReference(s: string): ImageReference {
  const r = parseReference(s);
  return r.tag === null && r.digest === null ? { ...r, tag: DEFAULT_TAG } : r;
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

export function isValidDigest(d: string): boolean {
  return DIGEST_RE.test(d);
}

/** "docker.io/library/busybox" */
export function referenceName(r: ImageReference): string {
  return `${r.domain}/${r.path}`;
}

/** "docker.io/library/busybox:latest" (the stored, canonical form). */
export function formatReference(r: ImageReference): string {
  return referenceName(r) + (r.tag !== null ? `:${r.tag}` : "") + (r.digest !== null ? `@${r.digest}` : "");
}

/** "busybox", "localhost:5000/x", "user/app" */
export function familiarName(r: ImageReference): string {
  if (r.domain !== DEFAULT_DOMAIN) return referenceName(r);
  if (r.path.startsWith(OFFICIAL_PREFIX) && !r.path.slice(OFFICIAL_PREFIX.length).includes("/")) {
    return r.path.slice(OFFICIAL_PREFIX.length);
  }
  return r.path;
}

/** "busybox:latest", "localhost:5000/x:1", "busybox@sha256:..." */
export function familiarString(r: ImageReference): string {
  return familiarName(r) + (r.tag !== null ? `:${r.tag}` : "") + (r.digest !== null ? `@${r.digest}` : "");
}

/** True when the reference has neither tag nor digest. */
export function isNameOnly(r: ImageReference): boolean {
  return r.tag === null && r.digest === null;
}
