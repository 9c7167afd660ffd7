/**
 * Worker-thread side of LayerDecoder: one gzip layer at a time, from compressed chunks the main thread
 * receives off the socket to uncompressed bytes in the spool file, with both digests taken here so the
 * main thread only moves buffers. Protocol in layer-decoder.ts.
 */
import { createHash } from "node:crypto";
import { writeSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { createGunzip, type Gunzip } from "node:zlib";
import type { ToWorker, FromWorker } from "./layer-decoder.js";

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

interface Job {
  fd: number;
  digest: string;
  packed: ReturnType<typeof createHash>;
  plain: ReturnType<typeof createHash>;
  gz: Gunzip;
  gzError: Error | null;
  gzEnded: Promise<void>;
  written: number;
  writeError: Error | null;
}

let job: Job | null = null;

function start(fd: number, digest: string): void {
  const gz = createGunzip({ chunkSize: 1 << 20 });
  const j: Job = {
    fd, digest, gz, packed: createHash("sha256"), plain: createHash("sha256"),
    gzError: null, written: 0, writeError: null, gzEnded: Promise.resolve(),
  };
  j.gzEnded = new Promise<void>((resolve) => {
    gz.on("end", resolve);
    // A data error is judged at the end: corrupt compressed bytes are reported as a digest mismatch.
    gz.on("error", (e) => { j.gzError ??= e; resolve(); });
  });
  gz.on("data", (c: Buffer) => {
    if (j.writeError) return;
    j.plain.update(c);
    try {
      for (let off = 0; off < c.length;) off += writeSync(fd, c, off, c.length - off, j.written + off);
    } catch (e) {
      j.writeError = e as Error;
      return;
    }
    j.written += c.length;
    post({ t: "written", total: j.written });
  });
  job = j;
}

async function end(j: Job): Promise<void> {
  const packed = `sha256:${j.packed.digest("hex")}`;
  if (packed !== j.digest) {
    j.gz.destroy();
    post({ t: "error", kind: "data-loss", message: `filesystem layer verification failed for digest ${j.digest}` });
    return;
  }
  if (!j.gzError) j.gz.end();
  await j.gzEnded;
  const err = j.gzError ?? j.writeError;
  if (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    post(code.startsWith("Z_")
      ? { t: "error", kind: "invalid-argument", message: `gzip: invalid compressed data: ${err.message}` }
      : { t: "error", kind: "system", message: `writing the layer download: ${err.message}` });
    return;
  }
  post({ t: "done", diffId: `sha256:${j.plain.digest("hex")}`, size: j.written });
}

port.on("message", (m: ToWorker) => {
  if (m.t === "start") {
    start(m.fd, m.digest);
  } else if (m.t === "chunk") {
    const j = job!;
    const buf = Buffer.from(m.buf);
    j.packed.update(buf);
    if (j.gzError || j.writeError) { post({ t: "ack", bytes: buf.length }); return; }
    j.gz.write(buf, () => post({ t: "ack", bytes: buf.length }));
  } else if (m.t === "end") {
    const j = job!;
    job = null;
    end(j).catch((e: Error) => post({ t: "error", kind: "system", message: e.message }));
  }
});
