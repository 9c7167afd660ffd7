import type { Writable } from "node:stream";
import type { LogEntry } from "../services/types.js";
import { versionAtLeast } from "./api-version.js";

export const STREAM_STDIN = 0;
export const STREAM_STDOUT = 1;
export const STREAM_STDERR = 2;
export const STREAM_SYSTEMERR = 3;

/** The Content-Type of an attach/logs body: raw with a TTY, multiplexed otherwise (named so since API 1.42). */
export function streamContentType(tty: boolean, apiVersion: string): string {
  return !tty && versionAtLeast(apiVersion, "1.42") ? "application/vnd.docker.multiplexed-stream" : "application/vnd.docker.raw-stream";
}

/** Docker's stdcopy header: [stream, 0, 0, 0, size uint32 big-endian]. */
export function frameHeader(stream: number, size: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(size, 4);
  return h;
}

export function frame(stream: number, payload: Buffer): Buffer {
  return Buffer.concat([frameHeader(stream, payload.length), payload]);
}

/** Write, waiting for drain under backpressure. False when the destination is gone. */
export async function writeChunk(out: Writable, chunk: Buffer): Promise<boolean> {
  if (out.destroyed || out.writableEnded) return false;
  if (out.write(chunk)) return true;
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => () => {
      out.off("drain", onDrain);
      out.off("close", onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    out.on("drain", onDrain);
    out.on("close", onClose);
  });
}

const TIME_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)$/i;

/**
 * dockerd prefixes log lines with RFC3339Nano in UTC with exactly nine fraction digits
 * ("2026-01-02T03:04:05.000000001Z"); monitors record other shapes ("+00:00" offsets, fewer digits).
 */
export function formatLogTime(time: string): string {
  const m = TIME_RE.exec(time);
  if (!m) return time;
  const frac = (m[2] ?? "").padEnd(9, "0").slice(0, 9);
  let secs = m[1]!;
  const zone = m[3]!.toUpperCase();
  if (zone !== "Z" && !/^[+-]00:?00$/.test(zone)) {
    const d = new Date(`${secs}${zone.length === 5 ? zone.slice(0, 3) + ":" + zone.slice(3) : zone}`);
    if (Number.isNaN(d.getTime())) return time;
    secs = d.toISOString().slice(0, 19);
  }
  return `${secs}.${frac}Z`;
}

export interface PipeEntriesOptions {
  tty: boolean;
  timestamps?: boolean;
}

/** Copy log/attach entries to a client: multiplexed frames without a TTY, raw bytes with one. */
export async function pipeEntries(entries: AsyncIterable<LogEntry>, out: Writable, opts: PipeEntriesOptions): Promise<void> {
  for await (const e of entries) {
    const payload = opts.timestamps ? Buffer.concat([Buffer.from(`${formatLogTime(e.time)} `), e.data]) : e.data;
    const chunk = opts.tty ? payload : frame(e.stream === "stderr" ? STREAM_STDERR : STREAM_STDOUT, payload);
    if (!(await writeChunk(out, chunk))) return;
  }
}

/**
 * Start an async iterable now (its subscription runs up to the first await) and hand back an
 * iterable that continues from there: attach subscribes before the client may start the container.
 */
export function primed<T>(source: AsyncIterable<T>): AsyncIterable<T> {
  const it = source[Symbol.asyncIterator]();
  let first: Promise<IteratorResult<T>> | null = it.next();
  first.catch(() => {});
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        const p = first ?? it.next();
        first = null;
        return p;
      },
      return: async (value?: unknown) => (it.return ? it.return(value) : { done: true as const, value: undefined }),
    }),
  };
}
