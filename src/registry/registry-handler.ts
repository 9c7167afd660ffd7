import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import type { Logger } from "../util/index.js";
import { allowAll, type Authorizer, type Scope } from "./authorizer.js";
import type { UploadSession } from "./blob-store.js";
import { checkDigest, checkName } from "./names.js";
import { OciError, ociError } from "./oci-error.js";
import { MAX_MANIFEST_BYTES, type RegistryStorage } from "./registry-storage.js";

export interface HandlerOptions {
  authorizer?: Authorizer;
  readOnly?: boolean;
  /** Allow DELETE of manifests and blobs (off by default, like the CNCF registry). */
  delete?: boolean;
  logger?: Logger;
}

type Req = IncomingMessage;
type Res = ServerResponse;

const API_HEADER = { "Docker-Distribution-API-Version": "registry/2.0" };

function send(res: Res, status: number, headers: Record<string, string | number | string[]> = {}, body?: string | Buffer): void {
  res.writeHead(status, { ...API_HEADER, ...headers });
  res.end(body);
}

function sendJson(res: Res, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  send(res, 200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), ...headers }, body);
}

async function readBody(req: Req, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > max) throw ociError("MANIFEST_INVALID", "manifest too big", undefined, 413);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function contentLength(req: Req): number | undefined {
  const v = req.headers["content-length"];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw ociError("SIZE_INVALID", "invalid Content-Length");
  return n;
}

/** "start-end" (inclusive), also with the "bytes=" or "bytes " prefixes some clients send. */
function parseContentRange(v: string | undefined): { start: number; end: number } | undefined {
  if (!v) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(v.trim());
  if (!m) throw ociError("RANGE_INVALID", `invalid Content-Range ${JSON.stringify(v)}`, undefined, 416);
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw ociError("RANGE_INVALID", "invalid Content-Range", undefined, 416);
  return { start, end };
}

function paginate(items: string[], q: URLSearchParams, linkBase: string): { page: string[]; link?: string } {
  const last = q.get("last");
  let list = last ? items.filter((t) => t > last) : items;
  const nRaw = q.get("n");
  if (nRaw === null || nRaw === "") return { page: list };
  const n = Number(nRaw);
  if (!Number.isSafeInteger(n) || n < 0) throw ociError("PAGINATION_NUMBER_INVALID", undefined, { n: nRaw });
  if (n === 0) return { page: [] };
  const more = list.length > n;
  list = list.slice(0, n);
  if (!more) return { page: list };
  return { page: list, link: `<${linkBase}?n=${n}&last=${encodeURIComponent(list[list.length - 1]!)}>; rel="next"` };
}

const ROUTES: { re: RegExp; kind: string }[] = [
  { re: /^\/v2\/?$/, kind: "base" },
  { re: /^\/v2\/_catalog$/, kind: "catalog" },
  { re: /^\/v2\/(.+)\/manifests\/([^/]+)$/, kind: "manifest" },
  { re: /^\/v2\/(.+)\/blobs\/uploads\/?$/, kind: "uploads" },
  { re: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, kind: "upload" },
  { re: /^\/v2\/(.+)\/blobs\/([^/]+)$/, kind: "blob" },
  { re: /^\/v2\/(.+)\/tags\/list$/, kind: "tags" },
  { re: /^\/v2\/(.+)\/referrers\/([^/]+)$/, kind: "referrers" },
];

/** The OCI Distribution API as a node:http request handler over RegistryStorage. */
export function registryHandler(storage: RegistryStorage, opts: HandlerOptions = {}): (req: Req, res: Res) => void {
  const auth = opts.authorizer ?? allowAll;
  const log = opts.logger;

  const uploadHeaders = (s: UploadSession) => ({
    Location: `/v2/${s.repo}/blobs/uploads/${s.uuid}`,
    "Docker-Upload-UUID": s.uuid,
    Range: `0-${Math.max(0, s.size - 1)}`,
    "Content-Length": 0,
  });

  const blobCreated = (res: Res, name: string, digest: string) =>
    send(res, 201, { Location: `/v2/${name}/blobs/${digest}`, "Docker-Content-Digest": digest, "Content-Length": 0 });

  async function handle(req: Req, res: Res): Promise<void> {
    const url = new URL(req.url ?? "/", "http://registry");
    const method = req.method ?? "GET";
    const route = ROUTES.map((r) => ({ m: r.re.exec(url.pathname), kind: r.kind })).find((r) => r.m);
    if (!route) throw ociError("NAME_UNKNOWN", "not found", undefined, 404);
    const name = route.kind === "base" || route.kind === "catalog" ? "" : decodeURIComponent(route.m![1]!);
    const arg = route.m![2] ? decodeURIComponent(route.m![2]) : "";
    if (name) checkName(name);
    const write = method !== "GET" && method !== "HEAD";
    const actions = method === "DELETE" ? ["delete"] : write ? ["pull", "push"] : ["pull"];
    const needed: Scope[] = [];
    if (route.kind === "catalog") needed.push({ type: "registry", name: "catalog", actions: ["*"] });
    else if (name) needed.push({ type: "repository", name, actions });
    const from = route.kind === "uploads" ? url.searchParams.get("from") : null;
    if (from && url.searchParams.get("mount")) needed.push({ type: "repository", name: checkName(from), actions: ["pull"] });
    await auth.authorize(req, needed);
    if (write && opts.readOnly) throw ociError("UNSUPPORTED", "the registry is in read-only mode");
    if (method === "DELETE" && !opts.delete && (route.kind === "manifest" || route.kind === "blob")) {
      throw ociError("UNSUPPORTED", "deletes are disabled on this registry");
    }

    switch (`${route.kind} ${method}`) {
      case "base GET": case "base HEAD":
        return send(res, 200, { "Content-Type": "application/json", "Content-Length": 2 }, method === "HEAD" ? undefined : "{}");

      case "catalog GET": {
        const { page, link } = paginate(await storage.catalog(), url.searchParams, "/v2/_catalog");
        return sendJson(res, { repositories: page }, link ? { Link: link } : {});
      }

      case "tags GET": {
        const { page, link } = paginate(await storage.tags(name), url.searchParams, `/v2/${name}/tags/list`);
        return sendJson(res, { name, tags: page }, link ? { Link: link } : {});
      }

      case "referrers GET": {
        const artifactType = url.searchParams.get("artifactType") ?? undefined;
        const manifests = await storage.referrers(name, arg, artifactType);
        const body = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests });
        return send(res, 200, {
          "Content-Type": "application/vnd.oci.image.index.v1+json", "Content-Length": Buffer.byteLength(body),
          ...(artifactType !== undefined ? { "OCI-Filters-Applied": "artifactType" } : {}),
        }, body);
      }

      case "manifest GET": case "manifest HEAD": {
        const rec = await storage.manifest(name, arg);
        const headers = { "Content-Type": rec.mediaType, "Content-Length": rec.size, "Docker-Content-Digest": rec.digest, ETag: `"${rec.digest}"` };
        if (method === "HEAD") return send(res, 200, headers);
        return send(res, 200, headers, await storage.manifestBytes(rec.digest));
      }

      case "manifest PUT": {
        const body = await readBody(req, MAX_MANIFEST_BYTES);
        const tags = url.searchParams.getAll("tag");
        const rec = await storage.putManifest(name, arg, body, req.headers["content-type"], tags);
        const headers: Record<string, string | number | string[]> = {
          Location: `/v2/${name}/manifests/${rec.digest}`, "Docker-Content-Digest": rec.digest, "Content-Length": 0,
        };
        if (rec.subject) headers["OCI-Subject"] = rec.subject.digest;
        if (tags.length) headers["OCI-Tag"] = tags;
        return send(res, 201, headers);
      }

      case "manifest DELETE":
        await storage.deleteManifest(name, arg);
        return send(res, 202, { "Content-Length": 0 });

      case "blob GET": case "blob HEAD": {
        const digest = checkDigest(arg);
        const size = await storage.blobSize(name, digest);
        if (size === null) throw ociError("BLOB_UNKNOWN", undefined, { digest });
        const base = { "Docker-Content-Digest": digest, "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream", ETag: `"${digest}"` };
        const range = req.headers.range;
        let start = 0;
        let end = size - 1;
        let status = 200;
        if (range && method === "GET") {
          const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
          if (!m || (m[1] === "" && m[2] === "")) throw ociError("RANGE_INVALID", `invalid Range ${range}`, undefined, 416);
          if (m[1] === "") { start = Math.max(0, size - Number(m[2])); } else { start = Number(m[1]); if (m[2] !== "") end = Math.min(end, Number(m[2])); }
          if (start >= size || start > end) {
            res.writeHead(416, { ...API_HEADER, "Content-Range": `bytes */${size}` });
            res.end();
            return;
          }
          status = 206;
        }
        const headers: Record<string, string | number> = { ...base, "Content-Length": end - start + 1 };
        if (status === 206) headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
        res.writeHead(status, { ...API_HEADER, ...headers });
        if (method === "HEAD" || size === 0) { res.end(); return; }
        await pipeline(storage.blobs.reader(digest, { start, end }), res);
        return;
      }

      case "blob DELETE":
        await storage.deleteBlob(name, checkDigest(arg));
        return send(res, 202, { "Content-Length": 0 });

      case "uploads POST": {
        const mount = url.searchParams.get("mount");
        if (mount && from) {
          const size = await storage.mount(name, from, checkDigest(mount));
          if (size !== null) return blobCreated(res, name, mount);
        }
        const digest = url.searchParams.get("digest");
        if (digest) {
          checkDigest(digest);
          await storage.putBlob(name, digest, req, contentLength(req));
          return blobCreated(res, name, digest);
        }
        const s = await storage.startUpload(name);
        return send(res, 202, uploadHeaders(s));
      }

      case "upload GET": {
        const s = await storage.upload(name, arg);
        return send(res, 204, uploadHeaders(s));
      }

      case "upload PATCH": {
        const s = await storage.upload(name, arg);
        const cr = parseContentRange(req.headers["content-range"]);
        const len = contentLength(req);
        if (cr && len !== undefined && cr.end - cr.start + 1 !== len) {
          throw ociError("SIZE_INVALID", "Content-Range does not match Content-Length", undefined, 416);
        }
        await storage.blobs.append(s, req, { ...(cr ? { start: cr.start } : {}), ...(len !== undefined ? { length: len } : {}) });
        return send(res, 202, uploadHeaders(s));
      }

      case "upload PUT": {
        const s = await storage.upload(name, arg);
        const digest = url.searchParams.get("digest");
        if (!digest) throw ociError("DIGEST_INVALID", "digest missing");
        checkDigest(digest);
        const len = contentLength(req);
        const cr = parseContentRange(req.headers["content-range"]);
        if (len !== 0) await storage.blobs.append(s, req, { ...(cr ? { start: cr.start } : {}), ...(len !== undefined ? { length: len } : {}) });
        await storage.finishUpload(s, digest);
        return blobCreated(res, name, digest);
      }

      case "upload DELETE": {
        const s = await storage.upload(name, arg);
        await storage.blobs.cancel(s);
        return send(res, 204, { "Content-Length": 0 });
      }

      default:
        throw ociError("UNSUPPORTED", `${method} is not supported here`);
    }
  }

  return (req, res) => {
    const t0 = Date.now();
    handle(req, res).then(
      () => log?.debug("request", { method: req.method, url: req.url, status: res.statusCode, ms: Date.now() - t0 }),
      (err: unknown) => {
        const e = err instanceof OciError ? err : ociError("UNKNOWN", (err as Error)?.message ?? String(err));
        if (!(err instanceof OciError)) log?.error("request failed", { method: req.method, url: req.url, err });
        else log?.debug("request", { method: req.method, url: req.url, status: e.status, code: e.code });
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const body = req.method === "HEAD" ? undefined : e.body();
        const headers: Record<string, string | number> = { "Content-Type": "application/json", ...e.headers };
        if (body) headers["Content-Length"] = Buffer.byteLength(body);
        // Don't drain a large unread body (a rejected blob upload) just to keep the connection.
        if (!req.complete) headers.Connection = "close";
        send(res, e.status, headers, body);
      },
    );
  };
}

