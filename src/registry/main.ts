import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createLogger, type Logger } from "../util/index.js";
import { HtpasswdAuthorizer, TokenAuthorizer, type Authorizer } from "./authorizer.js";
import { publicKeyFromPem } from "./jwt.js";
import { registryHandler } from "./registry-handler.js";
import { RegistryStorage, type GcOptions, type GcResult } from "./registry-storage.js";

export interface ServeRegistryOptions {
  root: string;
  addr: string;                 // "127.0.0.1:5000"; port 0 picks a free one
  tlsCert?: string;             // PEM files
  tlsKey?: string;
  htpasswd?: string;
  tokenRealm?: string;
  tokenService?: string;
  tokenIssuer?: string;
  tokenKey?: string;            // PEM file: the token server's certificate or public key
  readOnly?: boolean;
  delete?: boolean;
  logger?: Logger;
  signal?: AbortSignal;
  /** Background garbage collection period (default 1 h; 0 disables). */
  gcIntervalMs?: number;
  gcGraceMs?: number;
  uploadTtlMs?: number;
}

export interface RunningRegistry {
  address: string;              // "127.0.0.1:5000"
  storage: RegistryStorage;
  gc(opts?: GcOptions): Promise<GcResult>;
  close(): Promise<void>;
}

function splitAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`invalid listen address ${JSON.stringify(addr)} (want host:port)`);
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port: Number(m[3]) };
}

function authorizerFor(opts: ServeRegistryOptions): Authorizer | undefined {
  if (opts.htpasswd && opts.tokenRealm) throw new Error("--htpasswd and --token-realm are mutually exclusive");
  if (opts.htpasswd) return new HtpasswdAuthorizer(opts.htpasswd);
  if (opts.tokenRealm) {
    if (!opts.tokenKey) throw new Error("token auth needs --token-key (the token server's certificate or public key)");
    return new TokenAuthorizer({
      realm: opts.tokenRealm,
      service: opts.tokenService ?? "berth-registry",
      issuer: opts.tokenIssuer ?? "",
      key: publicKeyFromPem(readFileSync(opts.tokenKey, "utf8")),
    });
  }
  return undefined;
}

/** Run an OCI Distribution registry until close() or the signal aborts. */
export async function serveRegistry(opts: ServeRegistryOptions): Promise<RunningRegistry> {
  const logger = opts.logger ?? createLogger("info", { module: "registry" });
  const storage = await RegistryStorage.open(opts.root, logger);
  const authorizer = authorizerFor(opts);
  const handler = registryHandler(storage, {
    ...(authorizer ? { authorizer } : {}), readOnly: !!opts.readOnly, delete: !!opts.delete, logger,
  });
  let server: Server;
  if (opts.tlsCert || opts.tlsKey) {
    if (!opts.tlsCert || !opts.tlsKey) throw new Error("TLS needs both --tls-cert and --tls-key");
    server = createHttpsServer({ cert: readFileSync(opts.tlsCert), key: readFileSync(opts.tlsKey) }, handler);
  } else {
    server = createHttpServer(handler);
  }
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 30_000;
  const { host, port } = splitAddr(opts.addr);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => { server.off("error", reject); resolve(); });
  });
  const a = server.address() as AddressInfo;
  const address = a.family === "IPv6" ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  const gcOpts = (o?: GcOptions): GcOptions => ({
    ...(opts.gcGraceMs !== undefined ? { graceMs: opts.gcGraceMs } : {}),
    ...(opts.uploadTtlMs !== undefined ? { uploadTtlMs: opts.uploadTtlMs } : {}),
    ...o,
  });
  const interval = opts.gcIntervalMs ?? 3600_000;
  const timer = interval > 0 && !opts.readOnly
    ? setInterval(() => { storage.gc(gcOpts()).catch((err) => logger.warn("garbage collection failed", { err })); }, interval)
    : null;
  timer?.unref();
  logger.info("registry listening", { address, tls: !!opts.tlsCert, root: opts.root });
  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      if (timer) clearInterval(timer);
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  opts.signal?.addEventListener("abort", () => { void close(); }, { once: true });
  return { address, storage, gc: (o) => storage.gc(gcOpts(o)), close };
}

const USAGE = `Usage:  berth registry serve --root DIR [--addr HOST:PORT] [--tls-cert FILE --tls-key FILE]
                            [--htpasswd FILE | --token-realm URL --token-service NAME --token-issuer NAME --token-key FILE]
                            [--read-only] [--delete] [--gc-interval SECONDS]`;

/** `berth registry serve ...`: parse flags, serve until SIGINT/SIGTERM. */
export async function registryMain(argv: string[]): Promise<void> {
  const args = argv[0] === "serve" ? argv.slice(1) : argv;
  const o: Partial<ServeRegistryOptions> & { addr: string } = { addr: "127.0.0.1:5000" };
  const strFlags: Record<string, keyof ServeRegistryOptions> = {
    "--root": "root", "--addr": "addr", "--tls-cert": "tlsCert", "--tls-key": "tlsKey", "--htpasswd": "htpasswd",
    "--token-realm": "tokenRealm", "--token-service": "tokenService", "--token-issuer": "tokenIssuer", "--token-key": "tokenKey",
  };
  for (let i = 0; i < args.length; i++) {
    let a = args[i]!;
    let val: string | undefined;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 0) { val = a.slice(eq + 1); a = a.slice(0, eq); }
    if (a === "-h" || a === "--help") { process.stdout.write(USAGE + "\n"); return; }
    if (a === "--read-only") { o.readOnly = true; continue; }
    if (a === "--delete") { o.delete = true; continue; }
    const key = a === "--gc-interval" ? "gcIntervalMs" : strFlags[a];
    if (!key) throw new Error(`unknown flag: ${a}\n${USAGE}`);
    val ??= args[++i];
    if (val === undefined) throw new Error(`flag needs an argument: ${a}`);
    if (key === "gcIntervalMs") o.gcIntervalMs = Number(val) * 1000;
    else (o as Record<string, unknown>)[key] = val;
  }
  if (!o.root) throw new Error(`--root is required\n${USAGE}`);
  const ac = new AbortController();
  const reg = await serveRegistry({ ...o, root: o.root, signal: ac.signal });
  process.stdout.write(`listening on ${reg.address}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => { ac.abort(); void reg.close().then(resolve); };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
