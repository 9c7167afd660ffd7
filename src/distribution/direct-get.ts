import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/**
 * A GET the registry client has already authorized (scheme found, token in the headers), to be sent by
 * another thread: a layer's decode worker reads the blob's bytes off its own socket.
 */
export interface DirectRequest {
  url: string;
  headers: Record<string, string>;
  rejectUnauthorized: boolean;
  /** A response that stalls this long fails with ETIMEDOUT. */
  idleTimeoutMs: number;
}

/** The registry answered, but not with the bytes: the registry client must make sense of it. */
export class RefusedError extends Error {
  constructor(readonly status: number) {
    super(`registry answered ${status}`);
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const agents = {
  http: new HttpAgent({ keepAlive: true }),
  https: new HttpsAgent({ keepAlive: true }),
  insecure: new HttpsAgent({ keepAlive: true, rejectUnauthorized: false }),
};

/**
 * Send `req` from byte `offset` (a Range request when > 0), following redirects as the registry client does
 * (Authorization only to the same host). Resolves with a 200 or 206 response whose stalls fail it; rejects
 * with RefusedError for any other status, or with the network error.
 */
export async function directGet(req: DirectRequest, offset: number): Promise<IncomingMessage> {
  let url = new URL(req.url);
  const headers: Record<string, string> = { ...req.headers, ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}) };
  for (let hops = 0; ; hops++) {
    const res = await getOnce(url, headers, req);
    const status = res.statusCode ?? 0;
    if (status === 200 || status === 206) return res;
    res.resume();
    const loc = res.headers.location;
    if (!REDIRECTS.has(status) || !loc || hops >= 5) throw new RefusedError(status);
    const next = new URL(loc, url);
    if (next.host !== url.host) delete headers.Authorization;
    url = next;
  }
}

function getOnce(url: URL, headers: Record<string, string>, req: DirectRequest): Promise<IncomingMessage> {
  const https = url.protocol === "https:";
  const agent = !https ? agents.http : req.rejectUnauthorized ? agents.https : agents.insecure;
  return new Promise((resolve, reject) => {
    const r = (https ? httpsRequest : httpRequest)(url, { method: "GET", headers, agent });
    r.setTimeout(req.idleTimeoutMs, () => {
      r.destroy(Object.assign(new Error(`timeout: no response from ${url.host} for ${req.idleTimeoutMs} ms`), { code: "ETIMEDOUT" }));
    });
    r.once("error", reject);
    r.once("response", (res) => {
      res.setTimeout(req.idleTimeoutMs, () => {
        res.destroy(Object.assign(new Error(`timeout: ${url.host} stalled for ${req.idleTimeoutMs} ms`), { code: "ETIMEDOUT" }));
      });
      resolve(res);
    });
    r.end();
  });
}
