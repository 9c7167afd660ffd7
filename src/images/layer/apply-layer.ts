import { Transform, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { cancelled, EngineError, invalidArgument } from "../../errdefs/index.js";
import { DigestStream, type Digest } from "../../util/index.js";
import { installBinaryPax } from "./binary-pax.js";
import { TreeWriter, type PaxHeaders } from "./tree-writer.js";

installBinaryPax();

/**
 * Apply an uncompressed layer tar into an active snapshot's own dir, converting OCI whiteouts to overlay form
 * (".wh.x" -> 0/0 char device "x", ".wh..wh..opq" -> trusted.overlay.opaque=y). Never writes outside
 * targetDir and never writes through a symlink (invalid-argument). Hard links to files of lowerDirs copy the
 * file up first. On failure targetDir is left partly written: remove the snapshot.
 * Returns the diff id (sha256 of the whole tar, computed in flight), size (sum of entry sizes, Docker's
 * layer size) and tarSize (bytes of the tar).
 */
export async function applyLayer(
  src: Readable,
  targetDir: string,
  opts: {
    lowerDirs?: string[]; allowDevices?: boolean; signal?: AbortSignal;
    /** The tar's digest as its producer computed it, read once src has ended cleanly: src is not hashed again. */
    knownDigest?: () => Digest | undefined;
  } = {},
): Promise<{ diffId: Digest; size: number; tarSize: number }> {
  const { ex, finish } = layerExtract(targetDir, { lowerDirs: opts.lowerDirs ?? [], allowDevices: opts.allowDevices ?? true, ...(opts.signal ? { signal: opts.signal } : {}) });
  const digest = opts.knownDigest ? new ByteCount({ highWaterMark: 1 << 20 }) : new DigestStream({ highWaterMark: 1 << 20 });
  await runPipeline(src, digest, ex, opts.signal);
  const size = await finish();
  const diffId = opts.knownDigest ? opts.knownDigest() : (digest as DigestStream).digest();
  if (!diffId) throw new Error("layer source ended without the digest its producer promised");
  return { diffId, size, tarSize: digest.bytes };
}

/**
 * The writable end of a layer apply (applyLayer's contract, without the hashing): write the uncompressed tar
 * into `ex`, and once it has finished call finish(), which does the deferred work and returns the layer's size.
 * `lowerDirs` may be a function: it is then asked only if an entry needs the parents (a missing parent dir, a
 * hard link to a parent's file), so a layer can be applied before its parents are complete.
 */
export function layerExtract(
  targetDir: string,
  opts: { lowerDirs: string[] | (() => Promise<string[]>); allowDevices: boolean; syncWrites?: boolean; signal?: AbortSignal },
): { ex: tar.Extract; finish: () => Promise<number> } {
  const writer = new TreeWriter({
    mode: "layer", root: targetDir, lowerDirs: opts.lowerDirs, allowDevices: opts.allowDevices,
    ...(opts.syncWrites ? { syncWrites: true } : {}), ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const ex = tar.extract();
  ex.on("entry", (hdr, stream, next) => {
    writer.entry(hdr as PaxHeaders, stream as unknown as AsyncIterable<Buffer>).then(() => next(), (err: Error) => {
      stream.resume();
      next(err);
    });
  });
  return { ex, finish: async () => { await writer.finish(); return writer.size; } };
}

/** Counts what flows through (the tar's size when its digest is already known). */
class ByteCount extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

export async function runPipeline(src: Readable, digest: Transform | null, ex: tar.Extract, signal?: AbortSignal): Promise<void> {
  try {
    const streams = digest ? [src, digest, ex] as const : [src, ex] as const;
    // @ts-expect-error pipeline's overloads do not take a spread tuple
    await pipeline(...streams, signal ? { signal } : {});
  } catch (err) {
    if ((err as Error)?.name === "AbortError" || signal?.aborted) throw cancelled("layer apply cancelled", { cause: err });
    // tar-stream's own parse errors are plain Errors; give them a kind and say what was being read.
    if (err instanceof Error && !(err instanceof EngineError) && !("code" in err)) {
      throw invalidArgument(`invalid tar stream: ${err.message.charAt(0).toLowerCase()}${err.message.slice(1)}`, { cause: err });
    }
    throw err;
  }
}
