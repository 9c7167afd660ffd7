import type { Writable } from "node:stream";
import type { StepEvent } from "../../../spec/build-step-event.js";
export type { StepEvent };


interface Active {
  event: StepEvent;
  started: number;
  tail: string[];
  partial: string;
}

const TAIL_LINES = 6;
const KEEP_LINES = 200;

/**
 * Renders a build's step events. plain: one line per event (step start, RUN output, end, why it was
 * rebuilt, its cache key inputs). tty: finished steps are printed once; the running step and the last
 * lines of its output are redrawn in place with a live timer.
 */
export class BuildProgress {
  #active: Active | null = null;
  #drawn = 0;
  #timer: NodeJS.Timeout | null = null;
  readonly rebuilt: StepEvent[] = [];
  readonly steps: StepEvent[] = [];

  constructor(private readonly out: Writable, private readonly mode: "tty" | "plain", private readonly columns = 80) {}

  step(e: StepEvent): void {
    if (e.state === "running") {
      this.#finishActive();
      this.#active = { event: e, started: Date.now(), tail: [], partial: "" };
      if (this.mode === "plain") this.out.write(`${label(e)} ${e.instruction}\n`);
      else {
        this.#timer ??= setInterval(() => this.#redraw(), 100);
        this.#redraw();
      }
      return;
    }
    if (this.#active && this.#active.event.step === e.step) this.#flushPartial();
    this.steps.push(e);
    if (e.state === "done") this.rebuilt.push(e);
    const lines: string[] = [];
    const time = e.ms !== undefined ? ` ${(e.ms / 1000).toFixed(1)}s` : "";
    if (this.mode === "plain") {
      lines.push(e.state === "cached" ? `${label(e)} CACHED` : `${label(e)} DONE${time}`);
      if (e.state === "done" && e.reason) lines.push(`${label(e)} rebuilt: ${e.reason}`);
      if (e.explain) lines.push(`${label(e)} key: ${e.explain}`);
    } else {
      this.#clear();
      lines.push(this.#fit(` => ${e.state === "cached" ? "CACHED " : ""}${label(e)} ${e.instruction}`, time));
      const a = this.#active?.event.step === e.step ? this.#active : null;
      if (a && e.state === "done") for (const l of a.tail) lines.push(this.#fit(`    | ${l}`, ""));
      if (e.state === "done" && e.reason) lines.push(this.#fit(`    rebuilt: ${e.reason}`, ""));
      if (e.explain) lines.push(`    key: ${e.explain}`);
    }
    this.out.write(lines.map((l) => `${l}\n`).join(""));
    if (this.#active?.event.step === e.step) this.#active = null;
    this.#stopTimerIfIdle();
  }

  /** Text from a RUN step (or a daemon warning outside any step). */
  output(text: string): void {
    const a = this.#active;
    if (!a) {
      this.#clear();
      this.out.write(text);
      return;
    }
    const parts = (a.partial + text).split("\n");
    a.partial = parts.pop() ?? "";
    for (const l of parts) this.#line(a, l);
    if (this.mode === "tty") this.#redraw();
  }

  /** The build failed: keep what the failing step printed on screen. */
  fail(): void {
    const a = this.#active;
    if (a) {
      this.#flushPartial();
      this.#clear();
      if (this.mode === "tty") {
        const lines = [this.#fit(` => ERROR ${label(a.event)} ${a.event.instruction}`, ` ${((Date.now() - a.started) / 1000).toFixed(1)}s`), ...a.tail.map((l) => `    | ${l}`)];
        this.out.write(lines.map((l) => `${l}\n`).join(""));
      } else {
        this.out.write(`${label(a.event)} ERROR\n`);
      }
      this.#active = null;
    }
    this.#stopTimerIfIdle();
  }

  close(): void {
    this.#finishActive();
    this.#stopTimerIfIdle();
  }

  #line(a: Active, l: string): void {
    if (this.mode === "plain") this.out.write(`${label(a.event)} | ${l}\n`);
    a.tail.push(l.replace(/\r/g, ""));
    if (a.tail.length > (this.mode === "tty" ? TAIL_LINES : KEEP_LINES)) a.tail.shift();
  }

  #flushPartial(): void {
    const a = this.#active;
    if (a && a.partial) {
      this.#line(a, a.partial);
      a.partial = "";
    }
  }

  #finishActive(): void {
    if (!this.#active) return;
    this.#flushPartial();
    this.#clear();
    this.#active = null;
  }

  #redraw(): void {
    const a = this.#active;
    if (this.mode !== "tty" || !a) return;
    const elapsed = ` ${((Date.now() - a.started) / 1000).toFixed(1)}s`;
    const lines = [this.#fit(` => ${label(a.event)} ${a.event.instruction}`, elapsed), ...a.tail.map((l) => this.#fit(`    | ${l}`, ""))];
    let s = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    for (const l of lines) s += `\x1b[2K${l}\n`;
    if (this.#drawn > lines.length) s += "\x1b[J";
    this.out.write(s);
    this.#drawn = lines.length;
  }

  #clear(): void {
    if (this.mode === "tty" && this.#drawn > 0) this.out.write(`\x1b[${this.#drawn}A\x1b[J`);
    this.#drawn = 0;
  }

  #stopTimerIfIdle(): void {
    if (!this.#active && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  /** One screen line: text cut to the width, the time right-aligned. */
  #fit(text: string, right: string): string {
    const clean = text.replace(/[\x00-\x1f\x7f]/g, " ");
    const room = Math.max(10, this.columns - right.length - 1);
    const left = clean.length > room ? `${clean.slice(0, room - 3)}...` : clean;
    return right ? `${left.padEnd(room)} ${right.trim()}` : left;
  }
}

function label(e: StepEvent): string {
  return `[${e.step}/${e.total}]`;
}
