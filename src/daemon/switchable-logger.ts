import { createLogger, type Logger, type LogLevel } from "../util/index.js";

/** A logger whose level can change at runtime (SIGHUP), shared by everything built from it. */
export class SwitchableLogger implements Logger {
  #level: LogLevel;
  #inner: Logger;

  constructor(level: LogLevel, private readonly base: Record<string, unknown> = {}, private readonly root?: SwitchableLogger) {
    this.#level = level;
    this.#inner = createLogger(level, base);
  }

  get level(): LogLevel {
    return this.root ? this.root.level : this.#level;
  }

  setLevel(level: LogLevel): void {
    if (this.root) return this.root.setLevel(level);
    this.#level = level;
    this.#inner = createLogger(level, this.base);
  }

  #current(): Logger {
    if (!this.root) return this.#inner;
    if (this.#level !== this.root.level) {
      this.#level = this.root.level;
      this.#inner = createLogger(this.#level, this.base);
    }
    return this.#inner;
  }

  debug(msg: string, fields?: Record<string, unknown>): void { this.#current().debug(msg, fields); }
  info(msg: string, fields?: Record<string, unknown>): void { this.#current().info(msg, fields); }
  warn(msg: string, fields?: Record<string, unknown>): void { this.#current().warn(msg, fields); }
  error(msg: string, fields?: Record<string, unknown>): void { this.#current().error(msg, fields); }

  child(fields: Record<string, unknown>): Logger {
    return new SwitchableLogger(this.level, { ...this.base, ...fields }, this.root ?? this);
  }
}
