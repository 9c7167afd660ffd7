import { closeSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { JsonMessage } from "../spec/engine.js";
import { newId } from "../util/index.js";

const MEMORY_LIMIT = 256 << 10;

interface Channel {
  queue: JsonMessage[];
  bytes: number;
  /** Once a channel's backlog passes the memory limit it goes to a file, in order, until replayed. */
  spill: { path: string; fd: number } | null;
  closed: boolean;
}

/**
 * Messages of stages that build at the same time, passed on in stage order: the first open channel
 * streams live, the others are held (in memory up to a limit, then in a file under tmpRoot) and
 * replayed when their turn comes. The output reads as if the stages had run one after another.
 */
export class OrderedOutput {
  readonly #channels: Channel[];
  #head = 0;

  constructor(count: number, private readonly out: (m: JsonMessage) => void, private readonly tmpRoot: string) {
    this.#channels = Array.from({ length: count }, () => ({ queue: [], bytes: 0, spill: null, closed: false }));
  }

  emit(ch: number, m: JsonMessage): void {
    if (ch === this.#head) return this.out(m);
    const c = this.#channels[ch]!;
    const line = JSON.stringify(m);
    if (c.spill) {
      writeSync(c.spill.fd, `${line}\n`);
      return;
    }
    c.queue.push(m);
    c.bytes += line.length;
    if (c.bytes > MEMORY_LIMIT) {
      const path = join(this.tmpRoot, `output-${newId().slice(0, 16)}.jsonl`);
      const fd = openSync(path, "w+", 0o600);
      c.spill = { path, fd };
      for (const q of c.queue) writeSync(fd, `${JSON.stringify(q)}\n`);
      c.queue = [];
      c.bytes = 0;
    }
  }

  /** The channel is done; when it is the live one, the next ones' backlogs are replayed. */
  close(ch: number): void {
    this.#channels[ch]!.closed = true;
    while (this.#head < this.#channels.length && this.#channels[this.#head]!.closed) {
      this.#head++;
      if (this.#head < this.#channels.length) this.#replay(this.#channels[this.#head]!);
    }
  }

  /** Replay whatever is still held (after a failure) and remove spill files. */
  dispose(): void {
    for (let i = this.#head; i < this.#channels.length; i++) this.#replay(this.#channels[i]!);
    this.#head = this.#channels.length;
  }

  #replay(c: Channel): void {
    for (const m of c.queue) this.out(m);
    c.queue = [];
    c.bytes = 0;
    if (!c.spill) return;
    const { fd, path } = c.spill;
    c.spill = null;
    try {
      const buf = Buffer.alloc(64 << 10);
      let pos = 0;
      let rest = "";
      const dec = new StringDecoder("utf8");
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n === 0) break;
        pos += n;
        const lines = (rest + dec.write(buf.subarray(0, n))).split("\n");
        rest = lines.pop()!;
        for (const l of lines) if (l) this.out(JSON.parse(l) as JsonMessage);
      }
    } finally {
      closeSync(fd);
      rmSync(path, { force: true });
    }
  }
}
