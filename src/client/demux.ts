import type { Readable, Writable } from "node:stream";

/** Stream ids in the 8-byte frame header of application/vnd.docker.multiplexed-stream. */
export const STDIN = 0, STDOUT = 1, STDERR = 2, SYSTEMERR = 3;

function write(dest: Writable, chunk: Buffer): Promise<void> | undefined {
  if (dest.write(chunk)) return undefined;
  return new Promise((resolve) => dest.once("drain", resolve));
}

/**
 * Splits a multiplexed stream into stdout and stderr, frame by frame, without buffering payloads.
 * A frame on the system-error stream ends the copy with that message as an error.
 */
export async function demux(src: Readable, stdout: Writable, stderr: Writable): Promise<void> {
  const header = Buffer.alloc(8);
  let headerLen = 0;
  let remaining = 0;
  let target: Writable | null = stdout;
  let systemError: Buffer[] | null = null;
  for await (const data of src) {
    let chunk = data as Buffer;
    while (chunk.length) {
      if (remaining === 0) {
        const take = Math.min(8 - headerLen, chunk.length);
        chunk.copy(header, headerLen, 0, take);
        headerLen += take;
        chunk = chunk.subarray(take);
        if (headerLen < 8) break;
        headerLen = 0;
        const kind = header[0];
        remaining = header.readUInt32BE(4);
        systemError = null;
        if (kind === STDIN || kind === STDOUT) target = stdout;
        else if (kind === STDERR) target = stderr;
        else if (kind === SYSTEMERR) { target = null; systemError = []; }
        else throw new Error(`unrecognized stream: ${kind}`);
        if (remaining === 0 && systemError) throw new Error("error from daemon in stream");
        continue;
      }
      const piece = chunk.subarray(0, remaining);
      chunk = chunk.subarray(piece.length);
      remaining -= piece.length;
      if (target) {
        const wait = write(target, piece);
        if (wait) await wait;
      } else if (systemError) {
        systemError.push(Buffer.from(piece));
        if (remaining === 0) throw new Error(`error from daemon in stream: ${Buffer.concat(systemError).toString("utf8")}`);
      }
    }
  }
}
