import { Transform } from "node:stream";

/**
 * Joins small chunks (a socket hands over a chunked request body in pieces of a few KB) into chunks of
 * at least `min` bytes, so every stage after it pays its per-chunk cost a few times per MB instead of
 * a hundred. Holds at most `min` bytes plus one chunk; what is left is passed on at the end.
 */
export function coalesceChunks(min = 256 << 10): Transform {
  let held: Buffer[] = [];
  let size = 0;
  const take = () => {
    const out = held.length === 1 ? held[0]! : Buffer.concat(held, size);
    held = [];
    size = 0;
    return out;
  };
  return new Transform({
    highWaterMark: min,
    transform(chunk: Buffer, _enc, cb) {
      if (size === 0 && chunk.length >= min) return cb(null, chunk);
      held.push(chunk);
      size += chunk.length;
      cb(null, size >= min ? take() : undefined);
    },
    flush(cb) {
      cb(null, size > 0 ? take() : undefined);
    },
  });
}
