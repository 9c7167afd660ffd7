import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { dataLoss, invalidArgument, notFound } from "../errdefs/index.js";
import { MediaType } from "../spec/oci-image.js";
import { sha256, type Digest } from "../util/index.js";
import type { DirectRequest } from "./direct-get.js";
import { RegistryError, type RegistryClient } from "./registry-client.js";

export const MANIFEST_ACCEPT = [
  MediaType.index, MediaType.manifest, MediaType.dockerManifestList, MediaType.dockerManifest,
].join(", ");

export interface FetchedManifest { bytes: Buffer; mediaType: string; digest: Digest }

async function readAll(res: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    n += (c as Buffer).length;
    if (n > max) {
      res.destroy();
      throw invalidArgument(`response too large (more than ${max} bytes)`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** One repository on one registry endpoint: manifests, blobs, uploads, tags. */
export class RemoteRepository {
  constructor(readonly client: RegistryClient, readonly name: string) {}

  /** The registry's view of a reference (for messages): "localhost:5000/x". */
  get displayName(): string {
    return `${this.client.endpoint.host}/${this.name}`;
  }

  async getManifest(reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    let res: IncomingMessage;
    try {
      res = await this.client.request({
        method: "GET", path: `/v2/${this.name}/manifests/${reference}`, repo: this.name,
        headers: { Accept: MANIFEST_ACCEPT }, expect: [200], signal,
      });
    } catch (err) {
      if (err instanceof RegistryError && err.status === 404) {
        throw new RegistryError("not-found", `manifest for ${this.displayName}${reference.includes(":") ? "@" : ":"}${reference} not found: ${err.message}`, 404, err.codes);
      }
      throw err;
    }
    const bytes = await readAll(res, 8 << 20);
    const digest = sha256(bytes);
    if (reference.startsWith("sha256:") && digest !== reference) {
      throw dataLoss(`manifest verification failed for digest ${reference}`);
    }
    const header = res.headers["docker-content-digest"];
    if (typeof header === "string" && header.startsWith("sha256:") && header !== digest && !reference.startsWith("sha256:")) {
      throw dataLoss(`manifest digest mismatch: registry says ${header}, content is ${digest}`);
    }
    let mediaType = (res.headers["content-type"] ?? "").split(";")[0]!.trim();
    try {
      const own = (JSON.parse(bytes.toString("utf8")) as { mediaType?: string }).mediaType;
      if (own) mediaType = own;
      else if (!mediaType || mediaType === "application/json" || mediaType === "text/plain") mediaType = "manifests" in JSON.parse(bytes.toString("utf8")) ? MediaType.index : MediaType.manifest;
    } catch {
      throw invalidArgument(`invalid manifest for ${this.displayName}:${reference}: not JSON`);
    }
    return { bytes, mediaType, digest };
  }

  /** Size of a blob, or null when the registry does not have it here. */
  async statBlob(digest: string, signal?: AbortSignal): Promise<number | null> {
    try {
      const res = await this.client.request({ method: "HEAD", path: `/v2/${this.name}/blobs/${digest}`, repo: this.name, expect: [200], signal });
      res.resume();
      const len = Number(res.headers["content-length"]);
      return Number.isFinite(len) ? len : 0;
    } catch (err) {
      if (err instanceof RegistryError && err.status === 404) return null;
      throw err;
    }
  }

  /** GET a blob from `offset` on (Range). The response body is the bytes from offset. */
  async openBlob(digest: string, offset = 0, signal?: AbortSignal): Promise<{ res: IncomingMessage; offset: number }> {
    const headers = offset > 0 ? { Range: `bytes=${offset}-` } : {};
    try {
      const res = await this.client.request({ method: "GET", path: `/v2/${this.name}/blobs/${digest}`, repo: this.name, headers, expect: [200, 206], signal });
      return { res, offset: res.statusCode === 206 ? offset : 0 };
    } catch (err) {
      if (err instanceof RegistryError && err.status === 404) throw notFound(`blob ${digest} not found in ${this.displayName}: ${err.message}`);
      throw err;
    }
  }

  /** The GET of a blob, authorized, for a decode worker to send itself (see RegistryClient.directRequest). */
  blobRequest(digest: string, signal?: AbortSignal): Promise<DirectRequest> {
    return this.client.directRequest({ path: `/v2/${this.name}/blobs/${digest}`, repo: this.name, ...(signal ? { signal } : {}) });
  }

  async readBlob(digest: Digest, max = 16 << 20, signal?: AbortSignal): Promise<Buffer> {
    const { res } = await this.openBlob(digest, 0, signal);
    const bytes = await readAll(res, max);
    if (sha256(bytes) !== digest) throw dataLoss(`filesystem layer verification failed for digest ${digest}`);
    return bytes;
  }

  #location(res: IncomingMessage): string {
    const loc = res.headers.location;
    if (!loc) throw new RegistryError("unavailable", "registry answered an upload request without a Location", res.statusCode ?? 0);
    return new URL(loc, this.client.baseUrl + "/").toString();
  }

  /** Cross-repository mount; on failure the registry opens an upload, whose location is returned. */
  async mountBlob(digest: string, from: string, signal?: AbortSignal): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const res = await this.client.request({
      method: "POST", path: `/v2/${this.name}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      repo: this.name, extraScopes: [`repository:${from}:pull`], expect: [201, 202], signal,
    });
    res.resume();
    if (res.statusCode === 201) return { mounted: true };
    return { mounted: false, location: this.#location(res) };
  }

  async startUpload(signal?: AbortSignal): Promise<string> {
    const res = await this.client.request({ method: "POST", path: `/v2/${this.name}/blobs/uploads/`, repo: this.name, expect: [202], signal });
    res.resume();
    return this.#location(res);
  }

  /** Stream a whole blob whose digest is not known yet as one PATCH; returns the next location. */
  async patchStream(location: string, body: Readable, signal?: AbortSignal): Promise<string> {
    const res = await this.client.request({
      method: "PATCH", path: location, repo: this.name, body, expect: [202, 204], signal,
      headers: { "Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked" },
    });
    res.resume();
    return res.headers.location ? this.#location(res) : location;
  }

  /** Close an upload with its digest (and the remaining bytes, if any). */
  async finishUpload(location: string, digest: string, body?: Buffer, signal?: AbortSignal): Promise<void> {
    const u = new URL(location);
    u.searchParams.set("digest", digest);
    const res = await this.client.request({
      method: "PUT", path: u.toString(), repo: this.name, ...(body ? { body } : {}), expect: [201, 204], signal,
      headers: { "Content-Type": "application/octet-stream" },
    });
    res.resume();
  }

  async cancelUpload(location: string): Promise<void> {
    await this.client.request({ method: "DELETE", path: location, repo: this.name, expect: [204, 202, 404] }).then((r) => r.resume(), () => {});
  }

  /** Upload a small blob in one POST + PUT. */
  async putBlob(digest: string, bytes: Buffer, signal?: AbortSignal): Promise<void> {
    const loc = await this.startUpload(signal);
    await this.finishUpload(loc, digest, bytes, signal);
  }

  async putManifest(reference: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<Digest> {
    const res = await this.client.request({
      method: "PUT", path: `/v2/${this.name}/manifests/${reference}`, repo: this.name, body: bytes,
      headers: { "Content-Type": mediaType }, expect: [201, 200, 202], signal,
    });
    res.resume();
    return sha256(bytes);
  }

  async tags(signal?: AbortSignal): Promise<string[]> {
    const out: string[] = [];
    let path: string | null = `/v2/${this.name}/tags/list?n=1000`;
    while (path) {
      const res = await this.client.request({ method: "GET", path, repo: this.name, expect: [200], signal });
      const body = JSON.parse((await readAll(res, 16 << 20)).toString("utf8")) as { tags?: string[] | null };
      out.push(...(body.tags ?? []));
      const link = res.headers.link;
      const m = typeof link === "string" ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
      path = m ? m[1]! : null;
    }
    return out;
  }
}
