import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { cancelled, EngineError, type ErrorKind } from "../errdefs/index.js";
import type { Logger } from "../util/index.js";
import { hasCredentials, type AuthConfig } from "./auth-config.js";
import type { DirectRequest } from "./direct-get.js";
import { isInsecureRegistry, type RegistryEndpoint } from "./registry-endpoints.js";
import { parseWwwAuthenticate, type Challenge } from "./www-authenticate.js";

/** A registry answered with an error status (or not at all). `codes` are the OCI error codes of the body. */
export class RegistryError extends EngineError {
  constructor(kind: ErrorKind, message: string, readonly status: number, readonly codes: string[] = [], options?: ErrorOptions) {
    super(kind, message, options);
  }
}

export interface RequestOptions {
  method: string;
  /** Path from /v2/ on, or an absolute URL (upload Locations) */
  path: string;
  repo?: string;
  /** Token scope actions for `repo` (default pull for GET/HEAD, pull+push otherwise) */
  actions?: string[];
  /** Extra scopes, as "repository:<name>:pull" (cross-repository mount) */
  extraScopes?: string[];
  headers?: OutgoingHttpHeaders;
  /** A Buffer is resent on retry; a factory is called per attempt; a plain stream is sent once. */
  body?: Buffer | (() => Readable) | Readable;
  signal?: AbortSignal;
  /** Statuses that are success; anything else becomes a RegistryError (the body is consumed). */
  expect: number[];
  /** Retry network errors and 5xx (default: when the body can be resent) */
  retry?: boolean;
}

export interface ClientOptions {
  endpoint: RegistryEndpoint;
  auth?: AuthConfig;
  logger?: Logger;
  userAgent?: string;
  /** A stalled response (no bytes for this long) fails so it can be retried. */
  idleTimeoutMs?: number;
  attempts?: number;
  /** Insecure registry list, for token realms on other hosts. */
  insecureRegistries?: string[];
}

interface CachedToken { token: string; expires: number }

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 32 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 32 });
const insecureHttpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 32, rejectUnauthorized: false });

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function kindForStatus(status: number): ErrorKind {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not-found";
  if (status === 409) return "conflict";
  if (status === 429 || status >= 500) return "unavailable";
  return "invalid-argument";
}

const STATUS_TEXT: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 416: "Requested Range Not Satisfiable", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable" };

async function readSmallBody(res: IncomingMessage, max = 64 << 10): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of res) {
      if (n < max) chunks.push(c as Buffer);
      n += (c as Buffer).length;
    }
  } catch { /* a broken error body is still an error */ }
  return Buffer.concat(chunks).toString("utf8").slice(0, max);
}

/** Turn an error response into a RegistryError with distribution's wording ("manifest unknown: ..."). */
export async function responseError(res: IncomingMessage): Promise<RegistryError> {
  const status = res.statusCode ?? 0;
  const text = await readSmallBody(res);
  let codes: string[] = [];
  let message = "";
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(body.errors) && body.errors.length) {
      codes = body.errors.map((e) => e.code ?? "UNKNOWN");
      message = body.errors.map((e) => {
        const c = (e.code ?? "unknown").toLowerCase().replace(/_/g, " ");
        return e.message ? `${c}: ${e.message}` : c;
      }).join(", ");
    }
  } catch { /* not JSON */ }
  if (!message) {
    message = status === 401 ? "unauthorized: authentication required"
      : `received unexpected HTTP status: ${status} ${STATUS_TEXT[status] ?? res.statusMessage ?? ""}`.trim();
  }
  return new RegistryError(kindForStatus(status), message, status, codes);
}

function isNetworkError(err: unknown): boolean {
  if (err instanceof RegistryError) return err.status === 0;
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === "string" && !(err instanceof EngineError);
}

function scopeFor(repo: string, actions: string[]): string {
  return `repository:${repo}:${actions.join(",")}`;
}

/**
 * HTTP to one registry endpoint: scheme discovery (HTTPS, then HTTP for insecure registries), Basic and
 * Bearer-token auth (challenge, token per scope, cached until expiry), redirects, retries and stall timeouts.
 */
export class RegistryClient {
  readonly endpoint: RegistryEndpoint;
  #scheme: "https" | "http" | null = null;
  #challenge: Challenge | null = null;
  readonly #tokens = new Map<string, CachedToken>();
  readonly #auth: AuthConfig | undefined;
  readonly #opts: ClientOptions;

  constructor(opts: ClientOptions) {
    this.endpoint = opts.endpoint;
    this.#auth = opts.auth;
    this.#opts = opts;
  }

  get baseUrl(): string {
    return `${this.#scheme ?? this.endpoint.schemes[0]}://${this.endpoint.host}${this.endpoint.pathPrefix}`;
  }

  /** GET /v2/: find the scheme and the auth challenge. Throws unauthorized when the credentials are refused. */
  async ping(signal?: AbortSignal): Promise<void> {
    const res = await this.request({ method: "GET", path: "/v2/", expect: [200], signal, retry: true });
    res.resume();
  }

  /** The learned challenge, for login. */
  get challenge(): Challenge | null {
    return this.#challenge;
  }

  async request(o: RequestOptions): Promise<IncomingMessage> {
    const canResend = o.body === undefined || Buffer.isBuffer(o.body) || typeof o.body === "function";
    const retry = (o.retry ?? canResend) && canResend;
    const attempts = retry ? (this.#opts.attempts ?? 4) : 1;
    let lastErr: unknown;
    for (let i = 0; i < attempts; i++) {
      o.signal?.throwIfAborted();
      if (i > 0) await sleep(Math.min(4000, 250 * 2 ** (i - 1)), o.signal);
      try {
        const res = await this.#authorized(o, canResend);
        if (o.expect.includes(res.statusCode ?? 0)) return res;
        const err = await responseError(res);
        if (retry && (err.status >= 500 || err.status === 429) && i < attempts - 1) {
          lastErr = err;
          this.#opts.logger?.debug("registry request failed, retrying", { method: o.method, path: o.path, status: err.status });
          continue;
        }
        throw err;
      } catch (err) {
        if (o.signal?.aborted) throw cancelled();
        if (!retry || !isNetworkError(err) || i === attempts - 1) throw wrapNetworkError(err, this.endpoint.host);
        lastErr = err;
        this.#opts.logger?.debug("registry request failed, retrying", { method: o.method, path: o.path, err });
      }
    }
    throw wrapNetworkError(lastErr, this.endpoint.host);
  }

  /**
   * A GET of `path` with the auth header this client would send now, for another thread to send (a layer's
   * bytes read on its decode worker). A refusal goes back through request(), which refreshes the token.
   */
  async directRequest(o: { path: string; repo: string; signal?: AbortSignal }): Promise<DirectRequest> {
    const authorization = await this.#authHeader([scopeFor(o.repo, ["pull"])], o.signal);
    const url = new URL(`${this.baseUrl}${o.path}`);
    return {
      url: url.toString(),
      headers: { "User-Agent": this.#opts.userAgent ?? "berth", ...(authorization ? { Authorization: authorization } : {}) },
      rejectUnauthorized: this.#agentFor(url) !== insecureHttpsAgent,
      idleTimeoutMs: this.#opts.idleTimeoutMs ?? 30_000,
    };
  }

  async #authorized(o: RequestOptions, canResend: boolean): Promise<IncomingMessage> {
    const actions = o.actions ?? (o.method === "GET" || o.method === "HEAD" ? ["pull"] : ["pull", "push"]);
    const scopes = [...(o.repo ? [scopeFor(o.repo, actions)] : []), ...(o.extraScopes ?? [])];
    const sent = await this.#authHeader(scopes, o.signal);
    let res = await this.#send(o, sent);
    if (res.statusCode !== 401 || !canResend) return res;
    const challenges = parseWwwAuthenticate(res.headers["www-authenticate"]);
    const ch = challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic");
    if (!ch) return res;
    this.#challenge = ch;
    if (ch.scheme === "basic") {
      // Credentials sent and refused, or none to send: the 401 stands.
      if (!hasCredentials(this.#auth) || sent?.startsWith("Basic ")) return res;
    } else if (sent?.startsWith("Bearer ")) {
      for (const [k, t] of this.#tokens) if (`Bearer ${t.token}` === sent) this.#tokens.delete(k);
    }
    res.resume();
    res = await this.#send(o, await this.#authHeader(scopes, o.signal, ch.params.scope));
    return res;
  }

  async #authHeader(scopes: string[], signal?: AbortSignal, challengeScope?: string): Promise<string | undefined> {
    const a = this.#auth;
    if (a?.registrytoken) return `Bearer ${a.registrytoken}`;
    const ch = this.#challenge;
    if (!ch) return undefined;
    if (ch.scheme === "basic") {
      return a?.username !== undefined ? `Basic ${Buffer.from(`${a.username}:${a.password ?? ""}`).toString("base64")}` : undefined;
    }
    const all = [...new Set([...scopes, ...(challengeScope ? challengeScope.split(" ") : [])])].sort();
    const key = all.join(" ");
    const cached = this.#tokens.get(key);
    if (cached && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    const token = await this.#fetchToken(ch, all, signal);
    this.#tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  async #fetchToken(ch: Challenge, scopes: string[], signal?: AbortSignal): Promise<CachedToken> {
    const realm = ch.params.realm;
    if (!realm) throw new RegistryError("unauthorized", "unauthorized: bearer challenge without a realm", 401);
    const a = this.#auth;
    const url = new URL(realm);
    let method = "GET";
    let body: Buffer | undefined;
    const headers: OutgoingHttpHeaders = { "User-Agent": this.#opts.userAgent ?? "berth" };
    if (a?.identitytoken) {
      method = "POST";
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: a.identitytoken, client_id: "berth", access_type: "offline" });
      if (ch.params.service) form.set("service", ch.params.service);
      if (scopes.length) form.set("scope", scopes.join(" "));
      body = Buffer.from(form.toString());
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      headers["Content-Length"] = body.length;
    } else {
      if (ch.params.service) url.searchParams.set("service", ch.params.service);
      for (const s of scopes) url.searchParams.append("scope", s);
      if (a?.username) {
        url.searchParams.set("account", a.username);
        headers.Authorization = `Basic ${Buffer.from(`${a.username}:${a.password ?? ""}`).toString("base64")}`;
      }
    }
    const res = await rawRequest(url, method, headers, body, this.#agentFor(url), this.#opts.idleTimeoutMs ?? 30_000, signal);
    if (res.statusCode !== 200) {
      const err = await responseError(res);
      if (err.status === 401 || err.status === 403) throw new RegistryError("unauthorized", "unauthorized: incorrect username or password", err.status, err.codes);
      throw new RegistryError(err.kind, `getting a token from ${url.origin}: ${err.message}`, err.status, err.codes);
    }
    const text = await readSmallBody(res, 1 << 20);
    let t: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    try { t = JSON.parse(text) as typeof t; } catch { throw new RegistryError("unavailable", "token server answered with invalid JSON", 200); }
    const token = t.token ?? t.access_token;
    if (!token) throw new RegistryError("unauthorized", "token server answered without a token", 200);
    const ttl = Math.max(60, t.expires_in ?? 60);
    return { token, expires: Date.now() + (ttl - 10) * 1000 };
  }

  #agentFor(url: URL): HttpAgent | HttpsAgent {
    if (url.protocol === "http:") return httpAgent;
    return isInsecureRegistry(url.host, { insecureRegistries: this.#opts.insecureRegistries ?? [] }) || this.endpoint.insecure ? insecureHttpsAgent : httpsAgent;
  }

  async #send(o: RequestOptions, authorization: string | undefined): Promise<IncomingMessage> {
    const schemes = this.#scheme ? [this.#scheme] : this.endpoint.schemes;
    let lastErr: unknown;
    for (const scheme of schemes) {
      const base = `${scheme}://${this.endpoint.host}${this.endpoint.pathPrefix}`;
      let url = /^https?:\/\//.test(o.path) ? new URL(o.path) : new URL(`${base}${o.path}`);
      if (/^https?:\/\//.test(o.path) && !this.#scheme) url.protocol = `${scheme}:`;
      const headers: OutgoingHttpHeaders = { "User-Agent": this.#opts.userAgent ?? "berth", ...o.headers };
      if (authorization) headers.Authorization = authorization;
      try {
        const body = typeof o.body === "function" ? o.body() : o.body;
        let res = await rawRequest(url, o.method, headers, body, this.#agentFor(url), this.#opts.idleTimeoutMs ?? 30_000, o.signal);
        this.#scheme ??= scheme;
        for (let hops = 0; REDIRECTS.has(res.statusCode ?? 0) && (o.method === "GET" || o.method === "HEAD") && hops < 5; hops++) {
          const loc = res.headers.location;
          if (!loc) break;
          res.resume();
          const next = new URL(loc, url);
          const h = { ...headers };
          if (next.host !== url.host) delete h.Authorization;
          url = next;
          res = await rawRequest(url, o.method, h, undefined, this.#agentFor(url), this.#opts.idleTimeoutMs ?? 30_000, o.signal);
        }
        return res;
      } catch (err) {
        lastErr = err;
        if (this.#scheme || !isNetworkError(err) || typeof o.body === "object" && !Buffer.isBuffer(o.body)) throw err;
      }
    }
    throw lastErr;
  }
}

function wrapNetworkError(err: unknown, host: string): unknown {
  if (err instanceof EngineError) return err;
  const e = err as NodeJS.ErrnoException;
  return new RegistryError("unavailable", `Get "${host}": ${e?.message ?? String(err)}`, 0, [], { cause: err });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(t); reject(cancelled()); }, { once: true });
  });
}

/** One HTTP exchange. The response stream fails with ETIMEDOUT when it stalls for idleMs. */
function rawRequest(url: URL, method: string, headers: OutgoingHttpHeaders, body: Buffer | Readable | undefined,
  agent: HttpAgent | HttpsAgent, idleMs: number, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, {
      method, headers: Buffer.isBuffer(body) ? { ...headers, "Content-Length": body.length } : body === undefined && method !== "GET" && method !== "HEAD" ? { ...headers, "Content-Length": 0 } : headers,
      agent, ...(signal ? { signal } : {}),
    });
    req.setTimeout(idleMs, () => {
      const e = Object.assign(new Error(`timeout: no response from ${url.host} for ${idleMs} ms`), { code: "ETIMEDOUT" });
      req.destroy(e);
    });
    req.once("error", reject);
    req.once("response", (res) => {
      res.setTimeout(idleMs, () => {
        res.destroy(Object.assign(new Error(`timeout: ${url.host} stalled for ${idleMs} ms`), { code: "ETIMEDOUT" }));
      });
      resolve(res);
    });
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else pipeline(body, req).catch((e) => req.destroy(e));
  });
}
