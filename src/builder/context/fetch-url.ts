import { get as httpGet, type IncomingMessage } from "node:http";
import { get as httpsGet } from "node:https";
import { invalidArgument } from "../../errdefs/index.js";

export interface FetchedUrl {
  /** The body, to be consumed or destroyed by the caller. */
  body: IncomingMessage;
  /** The URL after redirects. */
  url: string;
  lastModified: Date | null;
  contentDisposition: string | null;
  contentType: string | null;
}

/**
 * GET an http(s) URL (redirects followed), streaming. A failed fetch is an invalid-argument error
 * that names the URL and what went wrong, in the words of Docker's remote-source errors.
 */
export async function fetchUrl(url: string, opts: { signal?: AbortSignal; what?: string } = {}): Promise<FetchedUrl> {
  const what = opts.what ?? "download";
  let current = url;
  for (let hop = 0; hop <= 10; hop++) {
    let u: URL;
    try {
      u = new URL(current);
    } catch {
      throw invalidArgument(`failed to ${what} ${url}: invalid URL`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") throw invalidArgument(`failed to ${what} ${url}: unsupported protocol ${u.protocol}`);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = (u.protocol === "https:" ? httpsGet : httpGet)(u, { ...(opts.signal ? { signal: opts.signal } : {}), timeout: 60_000 }, resolve);
      req.once("timeout", () => req.destroy(new Error("timeout")));
      req.once("error", reject);
    }).catch((err: Error) => {
      throw invalidArgument(`failed to ${what} ${url}: ${err.message}`);
    });
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      current = new URL(res.headers.location, u).toString();
      continue;
    }
    if (status < 200 || status >= 300) {
      res.resume();
      throw invalidArgument(`failed to ${what} ${url}: ${status} ${res.statusMessage ?? ""}`.trimEnd());
    }
    const lm = res.headers["last-modified"];
    const t = lm ? Date.parse(lm) : NaN;
    return {
      body: res, url: current, lastModified: Number.isNaN(t) ? null : new Date(t),
      contentDisposition: res.headers["content-disposition"] ?? null, contentType: res.headers["content-type"] ?? null,
    };
  }
  throw invalidArgument(`failed to ${what} ${url}: too many redirects`);
}
