export { AdaptiveGzip } from "./adaptive-gzip.js";
export { AsyncQueue, mapLimit } from "./async-queue.js";
export { decodeRegistryAuth, normalizeAuth, hasCredentials, type AuthConfig } from "./auth-config.js";
export { LayerSources, type LayerSource } from "./layer-sources.js";
export { hostPlatform, parsePlatform, formatPlatform, selectManifest } from "./platform.js";
export { ProgressCounter, status, type Emit } from "./progress.js";
export { RegistryClient, RegistryError, responseError, type ClientOptions, type RequestOptions } from "./registry-client.js";
export {
  registryEndpoints, isInsecureRegistry, authKeyFor, domainOfServer, DOCKER_HUB_AUTH_KEY, DOCKER_HUB_DOMAIN, DOCKER_HUB_HOST,
  type RegistryEndpoint, type EndpointConfig,
} from "./registry-endpoints.js";
export { RemoteRepository, MANIFEST_ACCEPT, type FetchedManifest } from "./remote-repository.js";
export { parseWwwAuthenticate, type Challenge } from "./www-authenticate.js";
export { fetchBlob, remoteBlob, type BlobFetchOptions } from "./blob-fetch.js";
export { SpoolFile } from "./spool-file.js";
export { LayerDecoder, type DecodeOptions, type RemoteSource } from "./layer-decoder.js";
