export { decodeRegistryAuth, hasCredentials, normalizeAuth, type AuthConfig } from "../spec/registry-auth.js";
