import { Readable } from "node:stream";
import tar from "tar-stream";
import { invalidArgument } from "../../errdefs/index.js";
import { ARCHIVE_HEAD_BYTES, isArchiveHead } from "../../spec/archive-magic.js";
import { peekStream } from "../../util/index.js";
import { fetchUrl } from "./fetch-url.js";

const DOCKERFILE_LIMIT = 1 << 20;

/**
 * POST /build?remote=URL: the URL names a context archive (tar, maybe compressed), passed on as it
 * streams in, or a Dockerfile, which becomes a one-file context. Git URLs are not supported.
 */
export async function fetchRemoteContext(url: string, signal?: AbortSignal): Promise<Readable> {
  if (/^git(@|:\/\/)|\.git(#|$)/.test(url)) throw invalidArgument(`unable to prepare context: git contexts are not supported: ${url}`);
  if (!/^https?:\/\//.test(url)) throw invalidArgument(`unable to prepare context: unable to download remote context ${url}: only http(s) URLs are supported`);
  const got = await fetchUrl(url, { what: "download remote context", ...(signal ? { signal } : {}) });
  const { head, stream } = await peekStream(got.body, ARCHIVE_HEAD_BYTES);
  if (isArchiveHead(head)) return stream;
  return dockerfileContext(stream);
}

/** A context holding only a Dockerfile read from `src` (bounded: a Dockerfile is small). */
export async function dockerfileContext(src: Readable): Promise<Readable> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of src) {
    n += (c as Buffer).length;
    if (n > DOCKERFILE_LIMIT) {
      src.destroy();
      throw invalidArgument("unable to prepare context: the remote file is neither an archive nor a Dockerfile of at most 1 MiB");
    }
    chunks.push(c as Buffer);
  }
  const pack = tar.pack();
  pack.entry({ name: "Dockerfile", mode: 0o644, mtime: new Date(0) }, Buffer.concat(chunks));
  pack.finalize();
  return pack as unknown as Readable;
}
