import { Transform, type TransformCallback } from "node:stream";
import type { JsonMessage } from "../spec/engine.js";

export type Emit = (m: JsonMessage) => void;

/** Emit a status for an id with no numbers (Docker sends an empty progressDetail). */
export function status(emit: Emit, id: string, text: string): void {
  emit({ status: text, progressDetail: {}, id });
}

/** A pass-through that reports bytes seen as {current,total} under `text`, at most every intervalMs (and at the end). */
export class ProgressCounter extends Transform {
  current = 0;
  #last = 0;

  readonly #emit: Emit;
  readonly #id: string;
  readonly #text: string;
  readonly #total: number;
  readonly #intervalMs: number;

  /** clamp: never report more than total (extraction counts tar bytes against the compressed size). */
  readonly #clamp: boolean;

  constructor(emit: Emit, id: string, text: string, total: number, start = 0, intervalMs = 150, clamp = false) {
    super({ highWaterMark: 1 << 20 });
    this.#emit = emit;
    this.#id = id;
    this.#text = text;
    this.#total = total;
    this.#intervalMs = intervalMs;
    this.current = start;
    this.#clamp = clamp;
  }

  #shown(): number {
    return this.#clamp ? Math.min(this.current, this.#total) : this.current;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.current += chunk.length;
    const now = Date.now();
    if (now - this.#last >= this.#intervalMs) {
      this.#last = now;
      this.#emit({ status: this.#text, progressDetail: { current: this.#shown(), total: this.#total }, id: this.#id });
    }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.#emit({ status: this.#text, progressDetail: { current: this.#shown(), total: this.#total }, id: this.#id });
    cb();
  }
}
