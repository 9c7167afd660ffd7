/**
 * Worker-thread side of LayerDecoder: one gzip layer at a time, from compressed chunks the main thread
 * receives off the socket to uncompressed bytes in the spool file (the layer's blob to be), with both digests
 * taken here, and, when asked, the tar applied into the layer's snapshot dir from the same bytes, so the main
 * thread only moves buffers. With "fetch" the worker also reads the compressed bytes off its own socket (the
 * registry client having authorized the request), and the main thread moves nothing. Protocol in layer-decoder.ts.
 */
import { createHash, type Hash } from "node:crypto";
import { fdatasync, fdatasyncSync, writeSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { Readable, Transform, Writable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parentPort } from "node:worker_threads";
import { createGunzip } from "node:zlib";
import { EngineError, type ErrorKind } from "../errdefs/index.js";
import { layerExtract } from "../images/layer/index.js";
import { directGet, RefusedError } from "./direct-get.js";
import type { ToWorker, FromWorker } from "./layer-decoder.js";

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

interface Job {
  digest: string;
  fd: number;
  packed: Hash;
  feed: Readable;
  /** Settles when the pipeline has ended or failed (never rejects). */
  ran: Promise<Error | null>;
  /** The pipeline failed on the content (not gzip, not a tar, a refused entry): keep hashing to judge the digest. */
  draining: boolean;
  failed: Error | null;
  plain: Hash;
  written: number;
  /** Compressed bytes pushed into the pipeline and not yet taken by it. */
  unacked: number;
  /** The pipeline took this many compressed bytes. */
  taken: (bytes: number) => void;
  /** The worker downloads the bytes itself ("fetch"), rather than being sent them. */
  remote: boolean;
  /** Bytes of the spool handed to an fdatasync so far, and the one running. */
  flushedTo: number;
  flushing: Promise<void> | null;
  finish: (() => Promise<number>) | null;
}

/** Compressed bytes in the pipeline's queue before the worker's own download pauses. */
const IN_FLIGHT = 8 << 20;
const COALESCE = 1 << 20;
/**
 * The spool becomes a blob, which must be on disk before it is visible. Flushing it as it grows, on the
 * thread pool, spreads the disk writes over the download instead of queueing them all at its end.
 */
const FLUSH_EVERY = 16 << 20;

function flushAhead(j: Job): void {
  j.flushedTo = j.written;
  j.flushing = new Promise<void>((resolve) => fdatasync(j.fd, () => { j.flushing = null; resolve(); }));
}
let job: Job | null = null;
/** The response the worker reads the current job from, when it downloads the layer itself. */
let download: IncomingMessage | null = null;
let lowersWanted: ((dirs: string[]) => void) | null = null;

/** Errors that bad layer content can cause; a digest mismatch explains them better, so they wait for the end. */
function contentError(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  if (code.startsWith("Z_")) return true;
  if (err instanceof EngineError) return err.kind === "invalid-argument";
  return !code;   // tar-stream's parse errors carry no code
}

function describe(err: Error): { kind: ErrorKind; message: string } {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  if (code.startsWith("Z_")) return { kind: "invalid-argument", message: `gzip: invalid compressed data: ${err.message}` };
  if (err instanceof EngineError) return { kind: err.kind, message: err.message };
  if (!code) return { kind: "invalid-argument", message: `invalid tar stream: ${err.message.charAt(0).toLowerCase()}${err.message.slice(1)}` };
  return { kind: "system", message: `writing the layer download: ${err.message}` };
}

function start(m: Extract<ToWorker, { t: "start" }>): void {
  const feed = new Readable({ read() {}, highWaterMark: 1 << 20 });
  const j: Job = {
    digest: m.digest, fd: m.fd, packed: createHash("sha256"), plain: createHash("sha256"), feed,
    ran: Promise.resolve(null), draining: false, failed: null, written: 0, unacked: 0, finish: null, remote: false, flushedTo: 0, flushing: null,
    // Acknowledged once taken into the pipeline, so the sender's in-flight window follows its pace.
    taken: (bytes) => {
      j.unacked -= bytes;
      if (!j.remote) post({ t: "ack", bytes });
      else if (j.unacked < IN_FLIGHT && download?.isPaused()) download.resume();
    },
  };
  const ack = new Transform({
    highWaterMark: 1 << 20,
    transform(c: Buffer, _e, cb: TransformCallback) { j.taken(c.length); cb(null, c); },
  });
  const { fd } = m;
  const extracting = m.extract !== undefined;
  const spool = new Transform({
    highWaterMark: 1 << 20,
    transform(c: Buffer, _e, cb: TransformCallback) {
      j.plain.update(c);
      try {
        for (let off = 0; off < c.length;) off += writeSync(fd, c, off, c.length - off, j.written + off);
      } catch (e) {
        cb(e as Error);
        return;
      }
      j.written += c.length;
      if (j.written - j.flushedTo >= FLUSH_EVERY && !j.flushing) flushAhead(j);
      // Only a spool read while it is written needs to hear of each chunk; an applied layer is read by no one.
      if (!extracting) post({ t: "written", total: j.written });
      cb(null, c);
    },
  });
  let sink: Writable;
  if (m.extract) {
    const x = layerExtract(m.extract.dir, {
      allowDevices: true, syncWrites: true,
      lowerDirs: () => new Promise<string[]>((resolve) => { lowersWanted = resolve; post({ t: "lowers" }); }),
    });
    sink = x.ex as unknown as Writable;
    j.finish = x.finish;
  } else {
    sink = new Writable({ highWaterMark: 1 << 20, write(_c, _e, cb) { cb(); } });
  }
  j.ran = pipeline(feed, ack, createGunzip({ chunkSize: 1 << 20 }), spool, sink).then(() => null, (err: Error) => {
    j.failed = err;
    if (contentError(err)) {
      j.draining = true;
      // What the dead pipeline never took must still be acknowledged, or the source stays paused.
      if (j.unacked > 0) j.taken(j.unacked);
      j.unacked = 0;
    } else if (job === j) {
      job = null;
      download?.destroy();
      post({ t: "error", ...describe(err) });
    }
    return err;
  });
  job = j;
}

async function end(j: Job): Promise<void> {
  const packed = `sha256:${j.packed.digest("hex")}`;
  if (packed !== j.digest) {
    j.feed.destroy();
    await j.ran;
    post({ t: "error", kind: "data-loss", message: `filesystem layer verification failed for digest ${j.digest}` });
    return;
  }
  j.feed.push(null);
  const err = await j.ran;
  if (err) {
    post({ t: "error", ...describe(err) });
    return;
  }
  try {
    if (j.finish) await j.finish();
    await j.flushing;
    // The file becomes a blob, which must be on disk before it is visible: flushing it here, while other
    // layers still download, keeps that wait off the in-order commits at the end of the pull.
    fdatasyncSync(j.fd);
  } catch (e) {
    post({ t: "error", ...describe(e as Error) });
    return;
  }
  post({ t: "done", diffId: `sha256:${j.plain.digest("hex")}`, size: j.written });
}

/** Compressed bytes in, from the main thread or the worker's own download: hashed, and fed unless draining. */
function feed(j: Job, buf: Buffer): void {
  j.packed.update(buf);
  if (j.draining) j.taken(buf.length);
  else {
    j.unacked += buf.length;
    j.feed.push(buf);
  }
}

function finishJob(j: Job): void {
  job = null;
  end(j).catch((e: Error) => post({ t: "error", kind: "system", message: e.message }));
}

/**
 * Download the job's remaining bytes from `offset` of `size`. Ends the job when all arrived; a broken or
 * stalled transfer and an unexpected status are the main thread's to judge (it retries or explains).
 */
async function fetchInto(j: Job, m: Extract<ToWorker, { t: "fetch" }>): Promise<void> {
  let res: IncomingMessage;
  try {
    res = await directGet(m.req, m.offset);
  } catch (e) {
    if (job !== j) return;
    if (e instanceof RefusedError) post({ t: "refused", offset: m.offset, status: e.status });
    else post({ t: "broken", offset: m.offset, message: (e as Error).message });
    return;
  }
  if (job !== j) {
    res.destroy();
    return;
  }
  download = res;
  let skip = res.statusCode === 206 ? 0 : m.offset;   // a registry that ignored Range sends it all again
  let received = m.offset;
  let reported = 0;
  let over = false;
  // Sockets deliver 64 KiB at a time; the gunzip and hash take 1 MiB, 16x fewer round trips to zlib's threads.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = () => {
    if (pendingBytes === 0) return;
    feed(j, pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes));
    pending = [];
    pendingBytes = 0;
  };
  const stop = (report: () => void, ended = false) => {
    if (over) return;
    over = true;
    if (job === j) flush();
    if (download === res) download = null;
    if (!ended) res.destroy();
    if (job === j) report();
  };
  res.on("data", (c: Buffer) => {
    if (over || job !== j) return;
    if (skip > 0) {
      if (c.length <= skip) { skip -= c.length; return; }
      c = c.subarray(skip);
      skip = 0;
    }
    received += c.length;
    if (received > m.size) {
      stop(() => {
        job = null;
        post({ t: "error", kind: "data-loss", message: `filesystem layer verification failed for digest ${j.digest}: more than ${m.size} bytes` });
      });
      return;
    }
    pending.push(c);
    pendingBytes += c.length;
    if (pendingBytes >= COALESCE) {
      flush();
      if (j.unacked >= IN_FLIGHT) res.pause();
    }
    // Progress is shown every 150 ms at most; a message per chunk would cost more than it shows.
    const now = Date.now();
    if (now - reported >= 100 || received === m.size) {
      reported = now;
      post({ t: "got", total: received });
    }
  });
  res.once("end", () => {
    if (received < m.size) stop(() => post({ t: "broken", offset: received, message: `unexpected EOF after ${received} of ${m.size} bytes` }));
    else stop(() => finishJob(j), true);
  });
  res.once("error", (e: Error) => stop(() => post({ t: "broken", offset: received, message: e.message })));
  res.once("close", () => stop(() => post({ t: "broken", offset: received, message: `connection closed after ${received} of ${m.size} bytes` })));
}

port.on("message", (m: ToWorker) => {
  if (m.t === "start") {
    start(m);
  } else if (m.t === "chunk") {
    const j = job;
    if (!j) return;   // failed already: the main thread is tearing this worker down
    feed(j, Buffer.from(m.buf));
  } else if (m.t === "end") {
    if (job) finishJob(job);
  } else if (m.t === "fetch") {
    if (!job) return;
    job.remote = true;
    void fetchInto(job, m);
  } else if (m.t === "lowers") {
    const w = lowersWanted;
    lowersWanted = null;
    w?.(m.dirs);
  }
});
