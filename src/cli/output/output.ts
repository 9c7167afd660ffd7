import type { Writable } from "node:stream";

/** Where commands put their results; main() owns the process streams. */
export class Output {
  constructor(readonly stdout: NodeJS.WriteStream | Writable, readonly stderr: NodeJS.WriteStream | Writable) {}

  get isTTY(): boolean { return Boolean((this.stdout as NodeJS.WriteStream).isTTY); }

  write(text: string | Buffer): void { this.stdout.write(text); }
  line(text = ""): void { this.stdout.write(text + "\n"); }
  errorLine(text: string): void { this.stderr.write(text + "\n"); }

  /** Waits until everything written so far has been handed to the OS. */
  async flush(): Promise<void> {
    await Promise.all([this.stdout, this.stderr].map((s) => new Promise<void>((resolve) => {
      if ((s as Writable).writableLength === 0) { resolve(); return; }
      s.write("", () => resolve());
    })));
  }
}
