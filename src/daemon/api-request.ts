import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Duplex, Readable } from "node:stream";
import { invalidArgument } from "../errdefs/index.js";
import { Query } from "./query.js";

/** Largest JSON request body accepted; configs are small, tars never go through json(). */
const MAX_JSON_BODY = 16 * 1024 * 1024;

export interface HijackTarget {
  /** The connection; after hijack the route owns it. */
  socket: Duplex;
  /** True for the `Connection: Upgrade` form (101), false for the legacy 200 form. */
  upgrade: boolean;
  /** Bytes of the client stream already read past the request head. */
  head: Buffer;
  /** Headers every response carries (Api-Version, Server, ...). */
  commonHeaders: Record<string, string>;
  /** Tells the server the route owns the connection now. */
  onHijack: () => void;
}

export interface HijackedConnection {
  socket: Duplex;
  input: Readable | null;
  sendHeaders(contentType: string): void;
}

export class ApiRequest {
  readonly query: Query;

  constructor(
    readonly raw: IncomingMessage,
    readonly method: string,
    readonly path: string,
    readonly version: string,
    search: string,
    readonly params: Record<string, string>,
    readonly signal: AbortSignal,
    private readonly hijackTarget: HijackTarget,
  ) {
    this.query = Query.parse(search);
  }

  get headers(): IncomingHttpHeaders {
    return this.raw.headers;
  }

  /** The request body as a stream (a tar for import/load/archive). */
  get body(): Readable {
    return this.raw;
  }

  /** Parse a JSON body. Absent body -> undefined unless required. */
  async json<T>(opts: { required?: boolean } = {}): Promise<T | undefined> {
    const ct = this.raw.headers["content-type"];
    let text: string;
    if (this.hijackTarget.upgrade) {
      text = (await this.#readUpgradeBody()).toString("utf8");
    } else {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of this.raw as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_JSON_BODY) throw invalidArgument("request body is too large");
        chunks.push(chunk);
      }
      text = Buffer.concat(chunks).toString("utf8");
    }
    if (text.trim() === "") {
      if (opts.required) throw invalidArgument("invalid JSON: got EOF while reading request body");
      return undefined;
    }
    if (ct && !/^application\/json\b/i.test(ct.split(";")[0]!.trim())) {
      throw invalidArgument(`unsupported Content-Type header (${ct}): must be 'application/json'`);
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw invalidArgument(`invalid JSON: ${(err as Error).message}`);
    }
  }

  /**
   * On an upgrade Node hands the body to nobody: its bytes follow the head on the raw socket
   * (exec start sends its JSON this way). Read exactly Content-Length of them; the rest stays for the stream.
   */
  async #readUpgradeBody(): Promise<Buffer> {
    const t = this.hijackTarget;
    if (this.raw.headers["transfer-encoding"]) throw invalidArgument("a chunked request body cannot be combined with a connection upgrade");
    const len = Number.parseInt(this.raw.headers["content-length"] ?? "0", 10) || 0;
    if (len > MAX_JSON_BODY) throw invalidArgument("request body is too large");
    let buf = t.head;
    while (buf.length < len) {
      const chunk = await new Promise<Buffer | null>((resolve, reject) => {
        const onData = (c: Buffer) => { cleanup(); t.socket.pause(); resolve(c); };
        const onEnd = () => { cleanup(); resolve(null); };
        const onError = (e: Error) => { cleanup(); reject(e); };
        const cleanup = () => {
          t.socket.off("data", onData);
          t.socket.off("end", onEnd);
          t.socket.off("error", onError);
        };
        t.socket.on("data", onData);
        t.socket.once("end", onEnd);
        t.socket.once("error", onError);
        t.socket.resume();
      });
      if (chunk === null) throw invalidArgument("unexpected end of request body");
      buf = Buffer.concat([buf, chunk]);
    }
    t.head = buf.subarray(len);
    return buf.subarray(0, len);
  }

  /** Whether the client asked to upgrade the connection (attach, exec start). */
  get wantsUpgrade(): boolean {
    return this.hijackTarget.upgrade;
  }

  /**
   * Take over the connection for a raw bidirectional stream, answering like dockerd: 101 UPGRADED
   * for `Upgrade: tcp`, else 200 OK. Returns the socket (write output to it, end it when done) and
   * the client's input, which is only usable in the upgrade form.
   */
  hijack(contentType: string): HijackedConnection {
    const conn = this.takeConnection();
    conn.sendHeaders(contentType);
    return conn;
  }

  /** Like hijack, but the status line goes out only on sendHeaders(), so a route can subscribe first. */
  takeConnection(): HijackedConnection {
    const t = this.hijackTarget;
    t.onHijack();
    if (t.head.length > 0) t.socket.unshift(t.head);
    t.head = Buffer.alloc(0);
    let sent = false;
    return {
      socket: t.socket,
      // In the legacy form Node's HTTP parser still owns the inbound side, so client input cannot be read.
      input: t.upgrade ? t.socket : null,
      sendHeaders(contentType: string) {
        if (sent) return;
        sent = true;
        const lines = t.upgrade
          ? ["HTTP/1.1 101 UPGRADED", `Content-Type: ${contentType}`, "Connection: Upgrade", "Upgrade: tcp"]
          : ["HTTP/1.1 200 OK", `Content-Type: ${contentType}`];
        for (const [k, v] of Object.entries(t.commonHeaders)) lines.push(`${k}: ${v}`);
        t.socket.write(lines.join("\r\n") + "\r\n\r\n");
      },
    };
  }
}
