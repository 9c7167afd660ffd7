import { createServer, ServerResponse, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { performance } from "node:perf_hooks";
import { chmod, lstat, unlink } from "node:fs/promises";
import { cancelled, invalidArgument } from "../errdefs/index.js";
import type { Logger } from "../util/index.js";
import { ApiRequest, type HijackTarget } from "./api-request.js";
import { ApiResponse } from "./api-response.js";
import { API_VERSION, splitVersion } from "./api-version.js";
import { isCancelled, messageOf, statusOf } from "./error-status.js";
import type { Route } from "./route.js";
import { Router } from "./router.js";

export interface ApiServerOptions {
  routes: Iterable<Route>;
  logger: Logger;
  /** Berth's own version, shown in the Server header. */
  serverVersion: string;
  /** A promise to wait for before handling this request (see cleanup-barrier.ts), or null to go ahead. */
  barrier?: (method: string, path: string) => Promise<void> | null;
}

/** The Engine API over node:http: version prefixes, routing, the one error reply, hijacked connections. */
export class ApiServer {
  readonly http: Server;
  readonly router: Router;
  readonly #logger: Logger;
  readonly #commonHeaders: Record<string, string>;
  readonly #hijacked = new Set<Duplex>();
  readonly #barrier: ApiServerOptions["barrier"];

  constructor(opts: ApiServerOptions) {
    this.router = new Router(opts.routes);
    this.#logger = opts.logger;
    this.#barrier = opts.barrier;
    this.#commonHeaders = {
      "Api-Version": API_VERSION,
      Server: `Berth/${opts.serverVersion} (linux)`,
      "Docker-Experimental": "false",
      Ostype: "linux",
    };
    // Uploads (docker load, import, cp) can take longer than Node's default 5 minute request timeout.
    this.http = createServer({ requestTimeout: 0 }, (req, res) => {
      void this.#dispatch(req, res, null, Buffer.alloc(0));
    });
    this.http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const res = new ServerResponse(req);
      res.assignSocket(socket as never);
      res.shouldKeepAlive = false;
      res.on("finish", () => socket.end());
      socket.on("error", () => socket.destroy());
      void this.#dispatch(req, res, socket, head);
    });
    this.http.on("clientError", (err: Error, socket: Duplex) => {
      if (this.#hijacked.has(socket) || !socket.writable) return;
      this.#logger.debug("bad request from client", { error: err });
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    });
  }

  /** Listen on a Unix socket: a stale socket file is replaced, the new one is chmod 0660. */
  async listenUnix(path: string): Promise<void> {
    const st = await lstat(path).catch(() => null);
    if (st) {
      if (!st.isSocket()) throw invalidArgument(`cannot listen on ${path}: the path exists and is not a socket`);
      await unlink(path);
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.http.once("error", onError);
      this.http.listen(path, () => {
        this.http.off("error", onError);
        resolve();
      });
    });
    await chmod(path, 0o660);
  }

  /** Stop accepting; let in-flight requests finish for up to graceMs, then drop every connection. */
  async close(graceMs = 1000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeIdleConnections();
    const timer = setTimeout(() => {
      this.http.closeAllConnections();
      for (const s of this.#hijacked) s.destroy();
    }, graceMs);
    for (const s of this.#hijacked) s.end();
    await closed;
    clearTimeout(timer);
    for (const s of this.#hijacked) s.destroy();
  }

  async #dispatch(req: IncomingMessage, raw: ServerResponse, upgradeSocket: Duplex | null, head: Buffer): Promise<void> {
    for (const [k, v] of Object.entries(this.#commonHeaders)) raw.setHeader(k, v);
    const res = new ApiResponse(raw);
    const socket = upgradeSocket ?? req.socket;
    const ac = new AbortController();
    // 'close' on the response also fires when the connection drops (assignSocket wires that for upgrades).
    raw.on("close", () => {
      if (!raw.writableFinished && !ac.signal.aborted) ac.abort(cancelled("client disconnected"));
    });
    const method = (req.method ?? "GET").toUpperCase();
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const rawPath = q === -1 ? url : url.slice(0, q);
    const search = q === -1 ? "" : url.slice(q + 1);
    try {
      const { version, path } = splitVersion(rawPath);
      const m = this.router.match(method, path);
      if (!m) {
        req.resume();
        res.json({ message: "page not found" }, 404);
        return;
      }
      const target: HijackTarget = {
        socket,
        upgrade: upgradeSocket !== null,
        head,
        commonHeaders: this.#commonHeaders,
        onHijack: () => {
          res.hijacked = true;
          this.#hijacked.add(socket);
          socket.once("close", () => this.#hijacked.delete(socket));
        },
      };
      const apiReq = new ApiRequest(req, method, path, version, search, m.params, ac.signal, target);
      const t0 = performance.now();
      raw.once("close", () => {
        const status = res.hijacked ? (upgradeSocket ? 101 : 200) : raw.statusCode;
        this.#logger.debug("request", { method, path: rawPath, status, ms: Math.round(performance.now() - t0) });
      });
      const wait = this.#barrier?.(method, path);
      if (wait) await wait;
      await m.route.handle(apiReq, res);
    } catch (err) {
      this.#fail(req, res, socket, err, ac.signal);
    }
  }

  #fail(req: IncomingMessage, res: ApiResponse, socket: Duplex, err: unknown, signal: AbortSignal): void {
    if (res.hijacked) {
      this.#logger.warn("hijacked stream failed", { url: req.url, error: err });
      socket.destroy();
      return;
    }
    if (signal.aborted || isCancelled(err)) {
      res.raw.destroy();
      return;
    }
    const status = statusOf(err);
    if (status >= 500 && status !== 501) this.#logger.error("request failed", { method: req.method, url: req.url, error: err });
    else this.#logger.debug("request error", { method: req.method, url: req.url, status, error: err });
    if (res.headersSent) {
      // The status line is gone; ending abruptly is the only honest signal left.
      res.raw.destroy();
      return;
    }
    // Drain what the client is still sending so the error reaches it.
    req.resume();
    for (const h of ["Content-Type", "Content-Length", "Content-Disposition", "X-Docker-Container-Path-Stat"]) res.raw.removeHeader(h);
    if (status === 304) {
      res.end(304);
      return;
    }
    res.json({ message: messageOf(err) }, status);
  }
}
