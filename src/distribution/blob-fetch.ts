import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { cancelled, dataLoss, isKind, type ErrorKind } from "../errdefs/index.js";
import type { Logger } from "../util/index.js";
import type { RemoteSource } from "./layer-decoder.js";
import { RegistryError } from "./registry-client.js";
import type { RemoteRepository } from "./remote-repository.js";

export interface BlobFetchOptions {
  size: number;
  attempts?: number;
  signal?: AbortSignal;
  logger?: Logger;
  /** Called before each retry with the attempt number (1-based) and the wait in seconds. */
  onRetry?: (attempt: number, waitS: number, err: unknown) => void;
  /** Called with each chunk's length as it arrives (progress). */
  onData?: (bytes: number) => void;
  /** Hash and check `digest` here (default). false: the consumer verifies every byte itself. */
  verify?: boolean;
  /** Delay before retry n, in ms (default n seconds, as Docker does). */
  backoffMs?: (attempt: number) => number;
}

const COALESCE = 1 << 20;

const FATAL: ErrorKind[] = ["not-found", "unauthorized", "forbidden", "data-loss", "invalid-argument"];

/**
 * A blob as one stream of exactly `size` verified bytes: a dropped or stalled response is resumed with a
 * Range request (or by skipping, when the registry ignores Range), and the stream fails with data-loss,
 * before ending, when the bytes do not hash to `digest`. Consumers that act on the bytes as they arrive
 * must treat only a clean end as proof.
 */
export function fetchBlob(repo: RemoteRepository, digest: string, opts: BlobFetchOptions): Readable {
  const { size, signal } = opts;
  const attempts = opts.attempts ?? 5;
  const backoff = opts.backoffMs ?? ((n: number) => n * 1000);
  async function* chunks(): AsyncGenerator<Buffer> {
    const hash = opts.verify === false ? null : createHash("sha256");
    let offset = 0;
    // Sockets deliver 64 KiB at a time; larger chunks mean 16x fewer threadpool round trips downstream (gunzip, file writes).
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const take = (): Buffer => {
      const out = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      return out;
    };
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw cancelled();
      try {
        const opened = await repo.openBlob(digest, offset, signal);
        let skip = offset - opened.offset;   // > 0 when the registry answered 200 to a Range request
        for await (const c of opened.res as AsyncIterable<Buffer>) {
          let chunk = c;
          if (skip > 0) {
            if (chunk.length <= skip) { skip -= chunk.length; continue; }
            chunk = chunk.subarray(skip);
            skip = 0;
          }
          offset += chunk.length;
          if (offset > size) throw dataLoss(`filesystem layer verification failed for digest ${digest}: more than ${size} bytes`);
          hash?.update(chunk);
          opts.onData?.(chunk.length);
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes >= COALESCE) yield take();
        }
        if (pendingBytes > 0) yield take();
        if (offset < size) throw Object.assign(new Error(`unexpected EOF after ${offset} of ${size} bytes`), { code: "ECONNRESET" });
        if (hash && `sha256:${hash.digest("hex")}` !== digest) throw dataLoss(`filesystem layer verification failed for digest ${digest}`);
        return;
      } catch (err) {
        if (signal?.aborted) throw cancelled();
        if (pendingBytes > 0) yield take();   // received and hashed before the failure
        // An error status was already retried by the client; only broken or stalled transfers are resumed here.
        const answered = err instanceof RegistryError && err.status !== 0;
        if (answered || FATAL.some((k) => isKind(err, k)) || attempt >= attempts) throw err;
        const wait = backoff(attempt);
        opts.logger?.info("blob download failed, resuming", { digest, offset, attempt, err });
        opts.onRetry?.(attempt, Math.round(wait / 1000), err);
        await waitUnlessAborted(wait, signal);
      }
    }
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: 1 << 20 });
}

/**
 * The same blob, for a decode worker that downloads it itself (LayerDecoder.decodeRemote), with fetchBlob's
 * rules: a broken or stalled transfer resumes from where it stopped, up to `attempts` times with the same
 * waits; any other answer than the bytes goes through the registry client, which refreshes a token or
 * says what the registry meant.
 */
export function remoteBlob(repo: RemoteRepository, digest: string, opts: Omit<BlobFetchOptions, "verify" | "onData"> & { onData?: (total: number) => void }): RemoteSource {
  const { signal } = opts;
  const attempts = opts.attempts ?? 5;
  const backoff = opts.backoffMs ?? ((n: number) => n * 1000);
  let broken = 0;
  let refused = 0;
  return {
    size: opts.size,
    request: () => repo.blobRequest(digest, signal),
    async refused(offset, status) {
      // Asked by the client, which retries 5xx and answers a 401 with a fresh token; its error is the one to give.
      const { res } = await repo.openBlob(digest, offset, signal);
      res.destroy();
      if (++refused >= attempts) throw new RegistryError("unavailable", `downloading ${digest}: the registry answered ${status}`, status);
    },
    async broken(offset, err) {
      if (signal?.aborted) throw cancelled();
      if (++broken >= attempts) throw new RegistryError("unavailable", err.message, 0, [], { cause: err });
      const wait = backoff(broken);
      opts.logger?.info("blob download failed, resuming", { digest, offset, attempt: broken, err });
      opts.onRetry?.(broken, Math.round(wait / 1000), err);
      await waitUnlessAborted(wait, signal);
    },
    ...(opts.onData ? { onData: opts.onData } : {}),
  };
}

/** The wait before a retry; rejects with cancelled as soon as the signal aborts. */
function waitUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(t); reject(cancelled()); };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
