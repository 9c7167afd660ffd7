/**
 * Worker-thread side of LayerDecoder: one gzip layer at a time, from compressed chunks the main thread
 * receives off the socket to uncompressed bytes in the spool file (the layer's blob to be), with both digests
 * taken here, and, when asked, the tar applied into the layer's snapshot dir from the same bytes, so the main
 * thread only moves buffers. Protocol in layer-decoder.ts.
 */
import { createHash, type Hash } from "node:crypto";
import { fdatasyncSync, writeSync } from "node:fs";
import { Readable, Transform, Writable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parentPort } from "node:worker_threads";
import { createGunzip } from "node:zlib";
import { EngineError, type ErrorKind } from "../errdefs/index.js";
import { layerExtract } from "../images/layer/index.js";
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
  /** Compressed bytes pushed into the pipeline and not yet acknowledged. */
  unacked: number;
  finish: (() => Promise<number>) | null;
}

let job: Job | null = null;
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
    ran: Promise.resolve(null), draining: false, failed: null, written: 0, unacked: 0, finish: null,
  };
  // Acknowledged once taken into the pipeline, so the main thread's in-flight window follows its pace.
  const ack = new Transform({
    highWaterMark: 1 << 20,
    transform(c: Buffer, _e, cb: TransformCallback) { j.unacked -= c.length; post({ t: "ack", bytes: c.length }); cb(null, c); },
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
      if (j.unacked > 0) post({ t: "ack", bytes: j.unacked });
      j.unacked = 0;
    } else if (job === j) {
      job = null;
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
    // The file becomes a blob, which must be on disk before it is visible: flushing it here, while other
    // layers still download, keeps that wait off the in-order commits at the end of the pull.
    fdatasyncSync(j.fd);
  } catch (e) {
    post({ t: "error", ...describe(e as Error) });
    return;
  }
  post({ t: "done", diffId: `sha256:${j.plain.digest("hex")}`, size: j.written });
}

port.on("message", (m: ToWorker) => {
  if (m.t === "start") {
    start(m);
  } else if (m.t === "chunk") {
    const j = job;
    if (!j) return;   // failed already: the main thread is tearing this worker down
    const buf = Buffer.from(m.buf);
    j.packed.update(buf);
    if (j.draining) post({ t: "ack", bytes: buf.length });
    else {
      j.unacked += buf.length;
      j.feed.push(buf);
    }
  } else if (m.t === "end") {
    const j = job;
    if (!j) return;
    job = null;
    end(j).catch((e: Error) => post({ t: "error", kind: "system", message: e.message }));
  } else if (m.t === "lowers") {
    const w = lowersWanted;
    lowersWanted = null;
    w?.(m.dirs);
  }
});
