import http from "node:http";
import type { Duplex, Readable } from "node:stream";
import { ConnectionError, errorFromResponse } from "./errors.js";
import type { DaemonHost } from "./host.js";

/** The newest Engine API version this client speaks; negotiated down to the daemon's. */
export const CLIENT_API_VERSION = "1.47";
/** Used when the daemon does not say (servers older than API 1.25). */
const FALLBACK_API_VERSION = "1.24";

export type QueryValue = string | number | boolean | undefined | null | string[];
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  /** A JSON body (serialised here) or a stream sent as it is. */
  body?: unknown;
  stream?: Readable;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface HijackedConnection {
  /** The raw connection: read the container's output, write its stdin, end() to close stdin. */
  socket: Duplex;
  /** "application/vnd.docker.raw-stream" (TTY) or "application/vnd.docker.multiplexed-stream". */
  contentType: string;
}

export function compareVersions(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split(".").map(Number);
  const [b1 = 0, b2 = 0] = b.split(".").map(Number);
  return a1 - b1 || a2 - b2;
}

export function encodeQuery(query: Query | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, v);
    else if (typeof value === "boolean") params.append(key, value ? "1" : "0");
    else params.append(key, String(value));
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

async function readText(res: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    // error bodies are small; cap what we keep so a misbehaving server cannot exhaust memory
    if (size < 1 << 20) chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** HTTP/1.1 over the daemon's Unix socket with a keep-alive agent and API version negotiation. */
export class Transport {
  readonly host: DaemonHost;
  private readonly agent: http.Agent;
  private version: Promise<string> | undefined;

  constructor(host: DaemonHost, opts: { apiVersion?: string } = {}) {
    this.host = host;
    this.agent = new http.Agent({ keepAlive: true });
    if (opts.apiVersion) this.version = Promise.resolve(opts.apiVersion);
  }

  /** The negotiated version: min(client max, daemon's Api-Version), asked once. */
  apiVersion(): Promise<string> {
    this.version ??= this.ping().then((r) => {
      const server = r.headers["api-version"];
      if (typeof server !== "string" || !server) return FALLBACK_API_VERSION;
      return compareVersions(server, CLIENT_API_VERSION) < 0 ? server : CLIENT_API_VERSION;
    });
    return this.version;
  }

  /** GET /_ping, unversioned. */
  async ping(signal?: AbortSignal): Promise<{ headers: http.IncomingHttpHeaders; body: string }> {
    const res = await this.send("GET", "/_ping", { signal });
    const body = await readText(res);
    if ((res.statusCode ?? 0) >= 400) throw errorFromResponse(res.statusCode ?? 500, body, res.statusMessage);
    return { headers: res.headers, body };
  }

  async versionedPath(path: string): Promise<string> {
    return `/v${await this.apiVersion()}${path}`;
  }

  /** A request whose response status is checked; the body is left to the caller. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
    const res = await this.send(method, await this.versionedPath(path) + encodeQuery(opts.query), opts);
    const status = res.statusCode ?? 500;
    if (status >= 400) throw errorFromResponse(status, await readText(res), res.statusMessage);
    return res;
  }

  /** A request with a JSON (or empty) answer. */
  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const text = await readText(res);
    if (!text.trim()) return undefined as T;
    return JSON.parse(text) as T;
  }

  /** A request whose answer is discarded. */
  async call(method: string, path: string, opts: RequestOptions = {}): Promise<void> {
    const res = await this.request(method, path, opts);
    res.resume();
    await new Promise<void>((resolve) => { res.once("end", resolve); res.once("close", resolve); });
  }

  /**
   * POST with Connection: Upgrade / Upgrade: tcp. A 101 answer hands over the raw socket; an old-style
   * 200 answer streams output only. Errors (4xx/5xx) are thrown like any other request.
   */
  async hijack(method: string, path: string, opts: RequestOptions = {}): Promise<HijackedConnection> {
    const fullPath = await this.versionedPath(path) + encodeQuery(opts.query);
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    return new Promise<HijackedConnection>((resolve, reject) => {
      const req = http.request({
        socketPath: this.host.socketPath,
        method,
        path: fullPath,
        // an upgraded socket never returns to the pool
        agent: false,
        signal: opts.signal,
        headers: {
          Connection: "Upgrade",
          Upgrade: "tcp",
          ...(body ? { "Content-Type": "application/json", "Content-Length": String(body.length) } : {}),
          ...opts.headers,
        },
      });
      req.once("upgrade", (res, socket, head) => {
        if (head.length) socket.unshift(head);
        resolve({ socket, contentType: String(res.headers["content-type"] ?? "") });
      });
      req.once("response", (res) => {
        const status = res.statusCode ?? 500;
        if (status >= 400) {
          readText(res).then((text) => reject(errorFromResponse(status, text, res.statusMessage)), reject);
          return;
        }
        resolve({ socket: res as unknown as Duplex, contentType: String(res.headers["content-type"] ?? "") });
      });
      req.once("error", (err) => reject(this.connectionError(err)));
      req.end(body);
    });
  }

  private send(method: string, path: string, opts: RequestOptions): Promise<http.IncomingMessage> {
    let body: Buffer | undefined;
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined && !opts.stream) {
      body = Buffer.from(JSON.stringify(opts.body));
      headers["Content-Type"] ??= "application/json";
      headers["Content-Length"] = String(body.length);
    }
    if (opts.stream) headers["Content-Type"] ??= "application/x-tar";
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.host.socketPath, method, path, agent: this.agent, headers, signal: opts.signal });
      req.once("response", resolve);
      req.once("error", (err) => reject(this.connectionError(err)));
      if (opts.stream) {
        opts.stream.once("error", (err) => req.destroy(err));
        opts.stream.pipe(req);
      } else {
        req.end(body);
      }
    });
  }

  private connectionError(err: Error): Error {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ECONNREFUSED" || code === "ENOTSOCK") return new ConnectionError(this.host.url, err);
    if (code === "EACCES") {
      return new ConnectionError(this.host.url, err,
        `permission denied while trying to connect to the Berth daemon socket at ${this.host.url}: ${err.message}`);
    }
    return err;
  }

  close(): void {
    this.agent.destroy();
  }
}
