export { serveRegistry, registryMain, type ServeRegistryOptions, type RunningRegistry } from "./main.js";
export { RegistryStorage, type GcResult, type GcOptions } from "./registry-storage.js";
export { registryHandler, type HandlerOptions } from "./registry-handler.js";
export { HtpasswdAuthorizer, TokenAuthorizer, type Authorizer, type Scope } from "./authorizer.js";
export { signToken, verifyToken, publicKeyFromPem, type Access, type TokenClaims } from "./jwt.js";
export { OciError, ociError, OCI_ERRORS, type OciErrorCode } from "./oci-error.js";
