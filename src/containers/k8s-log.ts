import { watch, type FSWatcher } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import type { LogEntry } from "../services/types.js";

/** One line of conmon's k8s-file log: `<RFC3339Nano> <stdout|stderr> <P|F> <content>`. */
export interface K8sLine { time: string; stream: "stdout" | "stderr"; partial: boolean; content: Buffer }

export function parseK8sLine(line: Buffer): K8sLine | null {
  const s1 = line.indexOf(0x20);
  if (s1 < 0) return null;
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s2 < 0) return null;
  const stream = line.subarray(s1 + 1, s2).toString("latin1");
  if (stream !== "stdout" && stream !== "stderr") return null;
  const tag = line[s2 + 1];
  if (tag !== 0x50 && tag !== 0x46) return null; // P, F
  const content = line.length > s2 + 2 ? line.subarray(s2 + 3) : Buffer.alloc(0);
  return { time: normalizeTime(line.subarray(0, s1).toString("latin1")), stream, partial: tag === 0x50, content };
}

const TIME_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/;

/** conmon's local-offset timestamp as Go's RFC3339Nano in UTC ("...:22.52630836Z", trailing zeros trimmed). */
export function normalizeTime(t: string): string {
  const m = TIME_RE.exec(t);
  if (!m) return t;
  const [, base, frac = "", off] = m as unknown as [string, string, string | undefined, string];
  const f = frac.replace(/0+$/, "");
  const fracText = f ? `.${f}` : "";
  if (off === "Z" || off === "+00:00" || off === "-00:00") return `${base}${fracText}Z`;
  const utc = new Date(Date.parse(`${base}${off}`)).toISOString().slice(0, 19);
  return `${utc}${fracText}Z`;
}

/** Joins partial lines into entries; a full line gets its "\n" back. */
export class EntryAssembler {
  #pendingOther: Map<string, { time: string; parts: Buffer[] }> = new Map();

  push(l: K8sLine): LogEntry | null {
    const p = this.#pendingOther.get(l.stream);
    if (l.partial) {
      if (p) p.parts.push(l.content);
      else this.#pendingOther.set(l.stream, { time: l.time, parts: [l.content] });
      return null;
    }
    this.#pendingOther.delete(l.stream);
    const parts = p ? [...p.parts, l.content] : [l.content];
    return { stream: l.stream, time: p?.time ?? l.time, data: Buffer.concat([...parts, Buffer.from("\n")]) };
  }

  /** Unterminated output at the end of the log (the process exited mid-line). */
  flush(): LogEntry[] {
    const out: LogEntry[] = [];
    for (const [stream, p] of this.#pendingOther) out.push({ stream: stream as "stdout" | "stderr", time: p.time, data: Buffer.concat(p.parts) });
    this.#pendingOther.clear();
    return out;
  }
}

const CHUNK = 64 * 1024;

/** Byte offset where the last `n` full entries start (scanning backwards in chunks). */
export async function tailOffset(path: string, n: number): Promise<number> {
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    if (n <= 0) return size;
    let full = 0;
    let pos = size;
    let carry = Buffer.alloc(0);
    let term = size; // file offset of the "\n" ending the line being looked at (size: none)
    const isFull = (line: Buffer) => { const l = parseK8sLine(line); return !!l && !l.partial; };
    while (pos > 0) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos);
      let data = carry.length ? Buffer.concat([buf, carry]) : buf;
      let nl: number;
      while ((nl = data.lastIndexOf(0x0a)) >= 0) {
        const line = data.subarray(nl + 1);
        if (line.length && isFull(line) && ++full > n) return term + 1;
        term = pos + nl;
        data = data.subarray(0, nl);
      }
      carry = Buffer.from(data);
    }
    if (carry.length && isFull(carry) && ++full > n) return term + 1;
    return 0;
  } finally {
    await fh.close();
  }
}

export interface FollowOptions {
  start?: number;
  /** When set, keep reading at EOF until this settles, then drain once more and stop. */
  until?: Promise<unknown>;
  signal?: AbortSignal;
}

/** Lines of a file (without "\n") from an offset, optionally following growth. Streams; never holds the file. */
export async function* readLines(path: string, opts: FollowOptions = {}): AsyncGenerator<Buffer> {
  let watcher: FSWatcher | null = null;
  let wake: (() => void) | null = null;
  let ended = false;
  opts.until?.then(() => { ended = true; wake?.(); }, () => { ended = true; wake?.(); });
  let fh: FileHandle;
  for (;;) {
    try {
      fh = await open(path, "r");
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      if (!opts.until || ended || opts.signal?.aborted) return;
      // The log appears when the monitor starts.
      await Promise.race([opts.until.catch(() => {}), new Promise((r) => setTimeout(r, 50))]);
      if (ended) {
        try { fh = await open(path, "r"); break; } catch { return; }
      }
    }
  }
  const onAbort = () => wake?.();
  opts.signal?.addEventListener("abort", onAbort);
  try {
    let pos = opts.start ?? 0;
    let carry = Buffer.alloc(0);
    const buf = Buffer.alloc(CHUNK);
    for (;;) {
      if (opts.signal?.aborted) return;
      const endedBefore = ended;
      const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        let data = carry.length ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : Buffer.from(buf.subarray(0, bytesRead));
        let nl: number;
        while ((nl = data.indexOf(0x0a)) >= 0) {
          yield data.subarray(0, nl);
          data = data.subarray(nl + 1);
        }
        carry = data;
        continue;
      }
      if (!opts.until || endedBefore) {
        if (carry.length) yield carry;
        return;
      }
      if (!watcher) {
        try { watcher = watch(path, () => wake?.()); } catch { /* poll below */ }
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 250).unref();
      });
      wake = null;
    }
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    watcher?.close();
    await fh.close();
  }
}

export interface EntryFilter {
  stdout?: boolean;
  stderr?: boolean;
  since?: number;
  until?: number;
  /** Live attach: every record as it comes, a partial one (a prompt, a progress bar) without waiting for its line end. */
  raw?: boolean;
}

/** Log entries from k8s-file lines, filtered by stream and time window (unix seconds). */
export async function* logEntries(lines: AsyncIterable<Buffer>, filter: EntryFilter = {}): AsyncGenerator<LogEntry> {
  const asm = new EntryAssembler();
  const wantOut = filter.stdout ?? true;
  const wantErr = filter.stderr ?? true;
  const ok = (e: LogEntry) => {
    if (e.stream === "stdout" ? !wantOut : !wantErr) return false;
    if (filter.since || filter.until) {
      const t = Date.parse(e.time) / 1000;
      if (filter.since && t < filter.since) return false;
      if (filter.until && t > filter.until) return false;
    }
    return true;
  };
  for await (const raw of lines) {
    const l = parseK8sLine(raw);
    if (!l) continue;
    if (filter.raw) {
      const e = { stream: l.stream, time: l.time, data: l.partial ? l.content : Buffer.concat([l.content, Buffer.from("\n")]) };
      if (ok(e)) yield e;
      continue;
    }
    const e = asm.push(l);
    if (e && ok(e)) yield e;
  }
  for (const e of asm.flush()) if (ok(e)) yield e;
}
