import type { ServerResponse } from "node:http";
import { finished } from "node:stream/promises";
import type { JsonMessage } from "../spec/engine.js";

/** A thin, chainable view of a ServerResponse for route handlers. */
export class ApiResponse {
  /** Set once a handler took over the raw connection (attach); the server then writes nothing. */
  hijacked = false;

  constructor(readonly raw: ServerResponse) {}

  get headersSent(): boolean {
    return this.raw.headersSent;
  }

  status(code: number): this {
    this.raw.statusCode = code;
    return this;
  }

  header(name: string, value: string | number | string[]): this {
    this.raw.setHeader(name, value);
    return this;
  }

  /** A JSON body, newline-terminated like Go's json.Encoder. */
  json(body: unknown, status?: number): void {
    if (status !== undefined) this.raw.statusCode = status;
    const data = JSON.stringify(body) + "\n";
    this.raw.setHeader("Content-Type", "application/json");
    this.raw.setHeader("Content-Length", Buffer.byteLength(data));
    this.raw.end(data);
  }

  text(body: string, status?: number, contentType = "text/plain; charset=utf-8"): void {
    if (status !== undefined) this.raw.statusCode = status;
    this.raw.setHeader("Content-Type", contentType);
    this.raw.setHeader("Content-Length", Buffer.byteLength(body));
    this.raw.end(body);
  }

  /** An empty response (204, 304, ...). */
  end(status?: number): void {
    if (status !== undefined) this.raw.statusCode = status;
    this.raw.end();
  }

  /**
   * Wait until a body handed to a service (export, archive, save) has been fully sent. Services end
   * the stream themselves and may return before it is done (getArchive returns the stat and keeps piping).
   */
  async bodyDone(): Promise<void> {
    if (this.raw.writableFinished) return;
    await finished(this.raw).catch(() => {});
  }

  /** Send the status and headers now, and return the body stream (chunked). */
  stream(contentType: string, status = 200): ServerResponse {
    this.raw.statusCode = status;
    this.raw.setHeader("Content-Type", contentType);
    this.raw.flushHeaders();
    return this.raw;
  }

  /** Start a Docker JSON-message stream (pull, load, import). */
  jsonStream(status = 200): JsonMessageWriter {
    return new JsonMessageWriter(this.stream("application/json", status));
  }
}

/** Writes one JSON message per line; errors mid-stream travel as errorDetail (plus the legacy error field). */
export class JsonMessageWriter {
  constructor(readonly out: ServerResponse) {}

  write(msg: JsonMessage): void {
    if (!this.out.writableEnded && !this.out.destroyed) this.out.write(JSON.stringify(msg) + "\r\n");
  }

  error(message: string): void {
    this.write({ errorDetail: { message }, error: message });
  }

  end(): void {
    if (!this.out.writableEnded) this.out.end();
  }
}
