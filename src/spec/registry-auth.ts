/** X-Registry-Auth, the Engine API's registry credentials header: its JSON shape and its decoding (pure, no I/O). */

/** The decoded X-Registry-Auth JSON (and a config.json auth entry). */
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;               // base64 "user:password" (config.json form)
  email?: string;
  serveraddress?: string;
  identitytoken?: string;      // OAuth refresh token from a previous login
  registrytoken?: string;      // a bearer token to send as is
}

/** Fill username/password from a base64 `auth` field when only that is set. */
export function normalizeAuth(a: AuthConfig | undefined): AuthConfig | undefined {
  if (!a) return undefined;
  if (!a.username && a.auth) {
    const s = Buffer.from(a.auth, "base64").toString("utf8");
    const i = s.indexOf(":");
    if (i > 0) return { ...a, username: s.slice(0, i), password: s.slice(i + 1) };
  }
  return a;
}

export function hasCredentials(a: AuthConfig | undefined): boolean {
  return !!(a && ((a.username && a.password !== undefined) || a.identitytoken || a.registrytoken));
}

/** Decode an X-Registry-Auth header (base64url or base64 JSON); undefined when absent or empty. */
export function decodeRegistryAuth(header: string | undefined): AuthConfig | undefined {
  if (!header) return undefined;
  try {
    const json = Buffer.from(header.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8");
    const v = JSON.parse(json) as AuthConfig;
    return v && typeof v === "object" ? normalizeAuth(v) : undefined;
  } catch {
    return undefined;
  }
}
