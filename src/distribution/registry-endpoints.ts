import { forbidden } from "../errdefs/index.js";
import { isIP } from "node:net";

export const DOCKER_HUB_DOMAIN = "docker.io";
export const DOCKER_HUB_HOST = "registry-1.docker.io";
/** The key Docker uses for Docker Hub in config.json and X-Registry-Auth. */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

export interface RegistryEndpoint {
  /** host[:port] requests go to */
  host: string;
  /** schemes to try, in order */
  schemes: ("https" | "http")[];
  /** skip TLS verification (insecure registries) */
  insecure: boolean;
  mirror: boolean;
  /** path prefix of a mirror URL ("" normally) */
  pathPrefix: string;
}

export interface EndpointConfig {
  insecureRegistries?: string[];
  /** Docker Hub mirrors ("https://mirror:5000"), or "<registry>=<url>" for a mirror of another registry. */
  registryMirrors?: string[];
  /** When non-empty, the only registries the daemon may contact: hosts, host:port or CIDRs. */
  allowedRegistries?: string[];
}

function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((a, p) => (a << 8) + Number(p), 0) >>> 0;
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsRaw] = cidr.split("/");
  if (!net || bitsRaw === undefined || isIP(net) !== 4 || isIP(ip) !== 4) return false;
  const bits = Number(bitsRaw);
  if (!(bits >= 0 && bits <= 32)) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (ipv4ToInt(ip) & mask) === (ipv4ToInt(net) & mask);
}

function hostOnly(hostPort: string): string {
  if (hostPort.startsWith("[")) return hostPort.slice(1, hostPort.indexOf("]"));
  const i = hostPort.lastIndexOf(":");
  return i > 0 && !hostPort.slice(0, i).includes(":") ? hostPort.slice(0, i) : hostPort;
}

/** Docker's rule: loopback and localhost are insecure (HTTP allowed); so are listed hosts and CIDRs. */
export function isInsecureRegistry(hostPort: string, cfg: EndpointConfig = {}): boolean {
  const host = hostOnly(hostPort);
  if (host === "localhost" || host === "::1" || (isIP(host) === 4 && inCidr(host, "127.0.0.0/8"))) return true;
  for (const entry of cfg.insecureRegistries ?? []) {
    const e = entry.replace(/^https?:\/\//, "").replace(/\/$/, "");
    if (e === hostPort || e === host) return true;
    if (e.includes("/") && inCidr(host, e)) return true;
  }
  return false;
}

function matchesEntry(hostPort: string, entry: string): boolean {
  const host = hostOnly(hostPort);
  const e = entry.replace(/^https?:\/\//, "").replace(/\/$/, "");
  if (e === hostPort || e === host) return true;
  return e.includes("/") && isIP(host) === 4 && inCidr(host, e);
}

/** An allow-list keeps a daemon (a test daemon above all) from ever resolving or contacting an outside registry. */
export function checkAllowedRegistry(hostPort: string, cfg: EndpointConfig = {}): void {
  const allowed = cfg.allowedRegistries ?? [];
  if (allowed.length === 0 || allowed.some((e) => matchesEntry(hostPort, e))) return;
  throw forbidden(`registry ${hostPort} is not in this daemon's allowed-registries`);
}

function mirrorEndpoint(url: string, cfg: EndpointConfig): RegistryEndpoint | null {
  let u: URL;
  try {
    u = new URL(url.includes("://") ? url : `https://${url}`);
  } catch {
    return null;
  }
  const insecure = isInsecureRegistry(u.host, cfg);
  const scheme = u.protocol === "http:" ? "http" : "https";
  return { host: u.host, schemes: [scheme], insecure, mirror: true, pathPrefix: u.pathname.replace(/\/+$/, "").replace(/\/v2$/, "") };
}

/** Where to pull a repository of `domain` from: its mirrors first (pull only), then the registry itself. */
export function registryEndpoints(domain: string, cfg: EndpointConfig = {}, opts: { push?: boolean } = {}): RegistryEndpoint[] {
  const out: RegistryEndpoint[] = [];
  if (!opts.push) {
    for (const m of cfg.registryMirrors ?? []) {
      const eq = m.indexOf("=");
      const target = eq > 0 && !m.slice(0, eq).includes("/") ? m.slice(0, eq) : DOCKER_HUB_DOMAIN;
      const url = eq > 0 && !m.slice(0, eq).includes("/") ? m.slice(eq + 1) : m;
      if (target !== domain) continue;
      const ep = mirrorEndpoint(url, cfg);
      if (ep) out.push(ep);
    }
  }
  const host = domain === DOCKER_HUB_DOMAIN ? DOCKER_HUB_HOST : domain;
  for (const ep of out) checkAllowedRegistry(ep.host, cfg);
  checkAllowedRegistry(host, cfg);
  const insecure = isInsecureRegistry(host, cfg);
  out.push({ host, schemes: insecure ? ["https", "http"] : ["https"], insecure, mirror: false, pathPrefix: "" });
  return out;
}

/** The config.json / X-Registry-Auth key for a registry domain. */
export function authKeyFor(domain: string): string {
  return domain === DOCKER_HUB_DOMAIN || domain === DOCKER_HUB_HOST || domain === "index.docker.io" ? DOCKER_HUB_AUTH_KEY : domain;
}

/** Normalize what a user typed for login ("localhost:5000", "https://host/v1/", "docker.io") to a domain. */
export function domainOfServer(server: string | undefined): string {
  if (!server) return DOCKER_HUB_DOMAIN;
  const s = server.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  if (s === "index.docker.io" || s === DOCKER_HUB_HOST || s === DOCKER_HUB_DOMAIN) return DOCKER_HUB_DOMAIN;
  return s;
}
