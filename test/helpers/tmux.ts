import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";

/** A tmux server of our own (tmux -L <unique>) running one window: type into it, read its screen, resize it. */
export class TmuxSession {
  readonly socket = `berth-test-${randomBytes(4).toString("hex")}`;

  #tmux(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile("tmux", ["-L", this.socket, "-f", "/dev/null", ...args], { encoding: "utf8", timeout: 10_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`tmux ${args.join(" ")}: ${stderr || err.message}`));
        else resolve(stdout);
      });
    });
  }

  /** A host shell (bash without rc files, prompt "host$ ") with env, in a width x height window. */
  async start(env: Record<string, string>, size = { width: 100, height: 30 }): Promise<void> {
    const vars = Object.entries({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/root", TERM: "xterm", PS1: "host$ ", ...env })
      .map(([k, v]) => `${k}=${v}`);
    await this.#tmux(["new-session", "-d", "-s", "main", "-x", String(size.width), "-y", String(size.height),
      "env", "-i", ...vars, "bash", "--norc", "--noprofile"]);
    await this.#tmux(["set-option", "-g", "window-size", "manual"]);
    await this.waitFor(/host\$\s*$/m);
  }

  /** Types text literally, then Enter unless enter is false. */
  async type(text: string, enter = true): Promise<void> {
    await this.#tmux(["send-keys", "-t", "main", "-l", text]);
    if (enter) await this.#tmux(["send-keys", "-t", "main", "Enter"]);
  }

  /** Sends tmux key names ("C-p", "C-q", "C-c"). */
  async keys(...names: string[]): Promise<void> {
    for (const k of names) await this.#tmux(["send-keys", "-t", "main", k]);
  }

  screen(): Promise<string> {
    return this.#tmux(["capture-pane", "-p", "-t", "main"]);
  }

  async resize(width: number, height: number): Promise<void> {
    await this.#tmux(["resize-window", "-t", "main", "-x", String(width), "-y", String(height)]);
  }

  /** Clears the screen and the scrollback so waitFor sees only what comes next. */
  async clear(): Promise<void> {
    await this.#tmux(["send-keys", "-t", "main", "-R"]);
    await this.#tmux(["clear-history", "-t", "main"]);
  }

  /** Waits until the screen matches re; fails with the screen. */
  async waitFor(re: RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let s = "";
    while (Date.now() < deadline) {
      s = await this.screen();
      if (re.test(s)) return s;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`screen never matched ${re}:\n${s}`);
  }

  async kill(): Promise<void> {
    await this.#tmux(["kill-server"]).catch(() => {});
    // tmux leaves its socket file behind when the server is killed.
    await rm(join(process.env.TMUX_TMPDIR ?? "/tmp", `tmux-${process.getuid?.() ?? 0}`, this.socket), { force: true });
  }
}
