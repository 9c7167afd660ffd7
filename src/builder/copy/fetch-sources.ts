import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, utimes } from "node:fs/promises";
import { join, posix } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { invalidArgument } from "../../errdefs/index.js";
import { entryHash, type ContextEntry } from "../context/build-context.js";
import { fetchUrl } from "../context/fetch-url.js";
import type { SourceTree } from "./source-tree.js";

/** ADD's rule: a URL source is a file named after the last segment of the URL's path. */
export function urlFileName(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    throw invalidArgument(`ADD failed: invalid URL: ${url}`);
  }
  const name = decodeURIComponent(posix.basename(path));
  if (!name || name === "/" || name === "." || name === "..") {
    throw invalidArgument(`ADD failed: cannot determine filename for source ${url}`);
  }
  return name;
}

/**
 * Download ADD's URL sources into a fresh directory under tmpRoot, as a source tree: each file 0600,
 * root-owned, with the Last-Modified time when the server sent one (Docker's rules), its content hashed
 * in flight. `checksum` ("sha256:<hex>") must match the download when given, else the step fails.
 */
export async function fetchSources(
  urls: readonly string[], opts: { tmpRoot: string; checksum?: string; signal?: AbortSignal },
): Promise<{ tree: SourceTree; names: string[]; dir: string }> {
  if (opts.checksum !== undefined && !/^sha256:[0-9a-f]{64}$/.test(opts.checksum)) {
    throw invalidArgument(`ADD failed: invalid checksum digest format: ${opts.checksum}`);
  }
  if (opts.checksum !== undefined && urls.length !== 1) throw invalidArgument("ADD failed: --checksum takes exactly one URL source");
  const dir = await mkdtemp(join(opts.tmpRoot, "add-"));
  try {
    return await download(urls, dir, opts);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function download(
  urls: readonly string[], dir: string, opts: { checksum?: string; signal?: AbortSignal },
): Promise<{ tree: SourceTree; names: string[]; dir: string }> {
  const entries = new Map<string, ContextEntry>();
  const names: string[] = [];
  for (const url of urls) {
    const name = urlFileName(url);
    if (entries.has(name)) throw invalidArgument(`ADD failed: two sources named ${name}`);
    const got = await fetchUrl(url, { what: "download", ...(opts.signal ? { signal: opts.signal } : {}) });
    const hash = createHash("sha256");
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    const file = join(dir, name);
    await pipeline(got.body, tap, createWriteStream(file, { mode: 0o600 }), ...(opts.signal ? [{ signal: opts.signal }] as const : []))
      .catch((err: Error) => { throw invalidArgument(`ADD failed: failed to download ${url}: ${err.message}`); });
    const digest = `sha256:${hash.digest("hex")}`;
    if (opts.checksum !== undefined && digest !== opts.checksum) {
      throw invalidArgument(`ADD failed: checksum mismatch for ${url}: expected ${opts.checksum}, got ${digest}`);
    }
    if (got.lastModified) await utimes(file, got.lastModified, got.lastModified);
    const base = { type: "file" as const, mode: 0o600, uid: 0, gid: 0, size, linkname: "" };
    entries.set(name, { ...base, hash: entryHash(base, digest.slice(7)) });
    names.push(name);
  }
  return { tree: { root: dir, entries, kind: "image" }, names, dir };
}
