/** A minimal HTTP client over a Unix socket for daemon tests. */
import { request, type IncomingHttpHeaders } from "node:http";
import { connect, type Socket } from "node:net";

export interface TestResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = unknown>(): T;
}

export function call(
  socketPath: string, method: string, path: string,
  opts: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString("utf8"),
          json: <T>() => JSON.parse(body.toString("utf8")) as T,
        });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** Send a raw HTTP request and collect everything the server sends until it closes its side. */
export function rawExchange(socketPath: string, head: string, opts: { keepOpenMs?: number; onSocket?: (s: Socket) => void } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    const chunks: Buffer[] = [];
    s.on("connect", () => {
      s.write(head);
      opts.onSocket?.(s);
    });
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("end", () => {
      s.end();
      resolve(Buffer.concat(chunks));
    });
    s.on("error", reject);
  });
}
