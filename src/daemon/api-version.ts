import { invalidArgument } from "../errdefs/index.js";

/** The newest Engine API version whose field shapes Berth serves (Engine 27.2–27.5). */
export const API_VERSION = "1.47";
/** The oldest version accepted (dockerd's floor when DOCKER_MIN_API_VERSION is lowered all the way). */
export const MIN_API_VERSION = "1.24";

/** -1, 0, 1 like Go's versions.Compare for dotted numeric versions. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split(".").map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export const versionAtLeast = (v: string, min: string) => compareVersions(v, min) >= 0;

const PREFIX_RE = /^\/v([0-9]+(?:\.[0-9]+)*)(\/.*)$/;

/** Split "/v1.43/containers/json" into the requested version and the unversioned path, enforcing the supported range. */
export function splitVersion(path: string): { version: string; path: string } {
  const m = PREFIX_RE.exec(path);
  if (!m) return { version: API_VERSION, path };
  const version = m[1]!;
  if (compareVersions(version, API_VERSION) > 0) {
    throw invalidArgument(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  }
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    throw invalidArgument(
      `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    );
  }
  return { version, path: m[2]! };
}
