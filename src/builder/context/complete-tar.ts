import { Transform } from "node:stream";

const BLOCK = 512;

/**
 * Passes a tar stream through and, when it ends right after an entry's data (or at a header
 * boundary) without the padding and the end-of-archive blocks, adds them. The docker CLI sends such
 * archives when it rewrites the context for `-f <outside file>` or `-f -` (moby's
 * ReplaceFileTarWrapper never closes its tar writer); Go's reader accepts them, tar-stream does not.
 * A stream cut inside a header or inside an entry's data is left as it is, so it still fails.
 */
export function completeTar(): Transform {
  let header = Buffer.alloc(0);
  let dataLeft = 0; // bytes of the current entry's data still to come
  let padLeft = 0; // padding bytes after it
  let zeroBlocks = 0; // consecutive all-zero header blocks seen (2 = a proper end)
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      let i = 0;
      while (i < chunk.length) {
        if (dataLeft > 0) {
          const n = Math.min(dataLeft, chunk.length - i);
          dataLeft -= n;
          i += n;
        } else if (padLeft > 0) {
          const n = Math.min(padLeft, chunk.length - i);
          padLeft -= n;
          i += n;
        } else {
          const n = Math.min(BLOCK - header.length, chunk.length - i);
          header = Buffer.concat([header, chunk.subarray(i, i + n)]);
          i += n;
          if (header.length === BLOCK) {
            if (header.every((b) => b === 0)) zeroBlocks++;
            else {
              zeroBlocks = 0;
              const size = entrySize(header);
              dataLeft = size;
              padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
            }
            header = Buffer.alloc(0);
          }
        }
      }
      cb(null, chunk);
    },
    flush(cb) {
      if (header.length > 0 || dataLeft > 0 || zeroBlocks >= 2) return cb();
      cb(null, Buffer.alloc(padLeft + (2 - zeroBlocks) * BLOCK));
    },
  });
}

/** The size field of a tar header: octal text, or GNU base-256 for large sizes. */
function entrySize(h: Buffer): number {
  const f = h.subarray(124, 136);
  if ((f[0]! & 0x80) !== 0) {
    let n = 0;
    for (let k = 1; k < f.length; k++) n = n * 256 + f[k]!;
    return n;
  }
  const s = f.toString("latin1").replace(/\0.*$/s, "").trim();
  return s === "" ? 0 : parseInt(s, 8) || 0;
}
