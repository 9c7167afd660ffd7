import type { Readable } from "node:stream";
import { Worker } from "node:worker_threads";
import { cancelled, EngineError, systemError, type ErrorKind } from "../errdefs/index.js";
import type { Digest } from "../util/index.js";
import type { DirectRequest } from "./direct-get.js";

export type ToWorker =
  | { t: "start"; fd: number; digest: string; extract?: { dir: string } }
  | { t: "chunk"; buf: ArrayBuffer }
  | { t: "fetch"; req: DirectRequest; offset: number; size: number }
  | { t: "end" }
  | { t: "lowers"; dirs: string[] };

export type FromWorker =
  | { t: "ack"; bytes: number }
  | { t: "lowers" }
  | { t: "written"; total: number }
  | { t: "got"; total: number }
  | { t: "broken"; offset: number; message: string }
  | { t: "refused"; offset: number; status: number }
  | { t: "done"; diffId: Digest; size: number }
  | { t: "error"; kind: ErrorKind; message: string };

export interface DecodeOptions {
  /** An open descriptor the uncompressed bytes are written to, from offset 0 (the spool file's). */
  fd: number;
  /** The compressed bytes must hash to this, or the decode fails with data-loss. */
  digest: string;
  /** Called with the total of uncompressed bytes in the file, as they land (not with `extract`). */
  onWritten?: (total: number) => void;
  signal?: AbortSignal;
  /** Compressed bytes posted but not yet taken by the worker before the source is paused. */
  maxInFlight?: number;
  /**
   * Also apply the tar into this (empty) snapshot dir on the worker, from the same bytes. `lowers` gives the
   * parent layers' dirs, nearest first, once they are complete; it is asked only if an entry needs them.
   */
  extract?: { dir: string; lowers: () => Promise<string[]> };
}

/** A blob the worker downloads itself; what to do when that does not go to plan is the caller's. */
export interface RemoteSource {
  /** Compressed bytes in the blob. */
  size: number;
  /** An authorized GET of the blob (from byte `offset`: the worker adds the Range). */
  request(): Promise<DirectRequest>;
  /** The GET was answered with another status: explain it (reject), or resolve once asking again may work. */
  refused(offset: number, status: number): Promise<void>;
  /** The transfer broke at `offset`: resolve to resume it from there (after a wait), or reject to give up. */
  broken(offset: number, err: Error): Promise<void>;
  /** The total of compressed bytes received so far (progress). */
  onData?: (total: number) => void;
}

const WORKER_URL = new URL("./layer-decode-worker.js", import.meta.url);
const IN_FLIGHT = 8 << 20;

/**
 * gunzip, both digests and (optionally) the apply of a layer on worker threads: the main thread only
 * receives the socket's bytes and hands their buffers over (transferred, not copied), so parallel layer
 * downloads decode and unpack on every core, as dockerd's goroutines do. One worker per layer in flight; a worker that finished cleanly is kept for the
 * next layer, any other is terminated. Idle workers do not keep the process alive.
 */
export class LayerDecoder {
  readonly #idle: Worker[] = [];

  constructor(readonly maxIdle = 3, readonly workerUrl: URL = WORKER_URL) {}

  #take(): Worker {
    let w = this.#idle.pop();
    if (!w) {
      const made = new Worker(this.workerUrl);
      // One that dies while idle is dropped from the pool (while busy, decode() reports it).
      made.on("error", () => {});
      made.on("exit", () => { const i = this.#idle.indexOf(made); if (i >= 0) this.#idle.splice(i, 1); });
      w = made;
    }
    w.ref();
    return w;
  }

  #give(w: Worker): void {
    w.unref();
    if (this.#idle.length < this.maxIdle) this.#idle.push(w);
    else void w.terminate();
  }

  /**
   * As decode, but the worker downloads the compressed bytes itself (the main thread does not touch them),
   * resuming from where a transfer broke when `src` says so.
   */
  decodeRemote(src: RemoteSource, opts: Omit<DecodeOptions, "maxInFlight">): Promise<{ diffId: Digest; size: number }> {
    return this.#session(opts, (w, s) => {
      const fetchFrom = (offset: number) => {
        src.request().then((req) => { if (!s.settled()) w.postMessage({ t: "fetch", req, offset, size: src.size } satisfies ToWorker); }, s.fail);
      };
      fetchFrom(0);
      return {
        onMessage: (m) => {
          if (m.t === "got") src.onData?.(m.total);
          else if (m.t === "refused") src.refused(m.offset, m.status).then(() => fetchFrom(m.offset), s.fail);
          else if (m.t === "broken") src.broken(m.offset, new Error(m.message)).then(() => fetchFrom(m.offset), s.fail);
        },
        detach: () => {},
      };
    });
  }

  /**
   * Decode `src` (gzip) into opts.fd (and apply it into opts.extract.dir). Resolves with the diff id and size
   * once every byte is written (and applied) and both digests held; rejects with data-loss (compressed digest),
   * invalid-argument (not gzip, not a valid layer tar), the source's error, cancelled, or system when the
   * worker fails. When it settles the worker no longer writes to fd or the dir.
   */
  decode(src: Readable, opts: DecodeOptions): Promise<{ diffId: Digest; size: number }> {
    const maxInFlight = opts.maxInFlight ?? IN_FLIGHT;
    return this.#session(opts, (w, s) => {
      let inFlight = 0;
      const onData = (chunk: Buffer) => {
        const own = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
        const ab = own ? chunk.buffer as ArrayBuffer : chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength) as ArrayBuffer;
        inFlight += chunk.byteLength;
        w.postMessage({ t: "chunk", buf: ab } satisfies ToWorker, [ab]);
        if (inFlight >= maxInFlight) src.pause();
      };
      const onEnd = () => w.postMessage({ t: "end" } satisfies ToWorker);
      src.on("data", onData);
      src.once("end", onEnd);
      src.once("error", s.fail);
      return {
        onMessage: (m) => {
          if (m.t !== "ack") return;
          inFlight -= m.bytes;
          if (inFlight < maxInFlight && src.isPaused()) src.resume();
        },
        detach: (failed) => {
          src.off("data", onData);
          src.off("end", onEnd);
          src.off("error", s.fail);
          if (failed) src.destroy();
        },
      };
    });
  }

  /**
   * One layer on one worker: the protocol both sources share (start, parents' dirs, progress, the verdict, a
   * worker that fails, abort). `feed` starts the bytes flowing and handles its own messages; `detach` is called
   * once, as the decode settles.
   */
  #session(
    opts: Omit<DecodeOptions, "maxInFlight">,
    feed: (w: Worker, s: { fail: (err: Error) => void; settled: () => boolean }) => { onMessage: (m: FromWorker) => void; detach: (failed: boolean) => void },
  ): Promise<{ diffId: Digest; size: number }> {
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(cancelled());
    const w = this.#take();
    return new Promise((resolve, reject) => {
      let settled = false;
      let source: ReturnType<typeof feed> | null = null;
      const cleanup = (failed: boolean) => {
        w.off("message", onMessage);
        w.off("error", onError);
        w.off("exit", onExit);
        signal?.removeEventListener("abort", onAbort);
        source?.detach(failed);
      };
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        cleanup(true);
        // Settle only once the worker has stopped, so it cannot write to fd after the caller closes it.
        w.terminate().then(() => reject(err), () => reject(err));
      };
      const onAbort = () => fail(cancelled());
      const onMessage = (m: FromWorker) => {
        if (settled) return;
        if (m.t === "lowers") {
          opts.extract!.lowers().then((dirs) => { if (!settled) w.postMessage({ t: "lowers", dirs } satisfies ToWorker); }, fail);
        } else if (m.t === "written") {
          opts.onWritten?.(m.total);
        } else if (m.t === "done") {
          settled = true;
          cleanup(false);
          this.#give(w);
          resolve({ diffId: m.diffId, size: m.size });
        } else if (m.t === "error") {
          fail(new EngineError(m.kind, m.message));
        } else {
          source?.onMessage(m);
        }
      };
      const onError = (e: Error) => fail(systemError(`layer decoder thread failed: ${e.message}`, { cause: e }));
      const onExit = (code: number) => fail(systemError(`layer decoder thread exited (code ${code})`));
      w.on("message", onMessage);
      w.on("error", onError);
      w.on("exit", onExit);
      signal?.addEventListener("abort", onAbort, { once: true });
      w.postMessage({ t: "start", fd: opts.fd, digest: opts.digest, ...(opts.extract ? { extract: { dir: opts.extract.dir } } : {}) } satisfies ToWorker);
      source = feed(w, { fail, settled: () => settled });
      if (settled) source.detach(true);
    });
  }
}
