import { constants } from "node:fs";
import { open, unlink } from "node:fs/promises";
import { basename, join } from "node:path";
import { conflict, notFound, systemError } from "../errdefs/index.js";
import { execFileCapture } from "./exec.js";
import { isAlive } from "./proc.js";

export interface RuncState { id: string; pid: number; status: "creating" | "created" | "running" | "paused" | "stopped"; bundle: string }

/** runc's logfmt error line -> its msg (`time=".." level=error msg="..."`). */
export function runtimeMessage(stderr: string): string {
  const lines = stderr.trim().split("\n").filter(Boolean);
  const msgs: string[] = [];
  for (const line of lines) {
    const m = /msg="((?:[^"\\]|\\.)*)"/.exec(line);
    if (m) msgs.push(JSON.parse(`"${m[1]}"`) as string);
    else if (!/^time=/.test(line)) msgs.push(line);
  }
  return msgs.join("; ") || stderr.trim();
}

/** The OCI runtime CLI (runc or crun), with its state under root. */
export class RuncRuntime {
  constructor(readonly binary: string, readonly root: string) {}

  async #run(args: string[], what: string, input?: string): Promise<string> {
    const r = await execFileCapture(this.binary, ["--root", this.root, ...args], { timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });
    if (r.code !== 0) {
      const msg = runtimeMessage(r.stderr);
      if (/does not exist|not found|container .* does not exist/i.test(msg)) throw notFound(msg);
      throw systemError(`${what}: ${msg}`);
    }
    return r.stdout;
  }

  /**
   * Let a created container's init exec the user's process. For runc this is what `runc start` itself does
   * (libcontainer's exec: read the one byte from the state dir's exec.fifo, then remove the fifo), without
   * spawning runc; Berth's specs have no poststart hooks, the only other thing `runc start` runs. Other
   * runtimes, or a runc without the fifo, get their own `start`. pid is the init's, to notice it died.
   */
  async start(id: string, pid?: number): Promise<void> {
    if (basename(this.binary) === "runc" && pid && (await this.#startByFifo(id, pid))) return;
    await this.#run(["start", id], "OCI runtime start failed");
  }

  async #startByFifo(id: string, pid: number): Promise<boolean> {
    const fifo = join(this.root, id, "exec.fifo");
    let fh;
    try {
      // Non-blocking: a blocking open would wait forever (and hold a libuv thread) if the init died first.
      fh = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
    try {
      const buf = Buffer.alloc(8);
      const readSome = () => fh!.read(buf, 0, buf.length, null).then((r) => r.bytesRead, (err: NodeJS.ErrnoException) => {
        if (err.code === "EAGAIN") return 0;
        throw err;
      });
      const deadline = Date.now() + 30_000;
      for (let delay = 1; ; delay = Math.min(delay * 2, 20)) {
        if ((await readSome()) > 0) break;
        // Nothing yet: the init has not reached its open of the fifo, or it is gone. A short-lived process may
        // have written its byte and exited between the read and this check, so read once more before failing.
        if (!(await isAlive(pid))) {
          if ((await readSome()) > 0) break;
          throw conflict("cannot start a container that has stopped");
        }
        if (Date.now() > deadline) throw systemError(`OCI runtime start failed: container ${id} did not start in time`);
        await new Promise((r) => setTimeout(r, delay));
      }
    } finally {
      await fh.close();
    }
    await unlink(fifo).catch(() => {});
    return true;
  }

  async kill(id: string, signal: number, all = false): Promise<void> {
    await this.#run(all ? ["kill", "--all", id, String(signal)] : ["kill", id, String(signal)], "OCI runtime kill failed");
  }

  async pause(id: string): Promise<void> {
    await this.#run(["pause", id], "OCI runtime pause failed");
  }

  async resume(id: string): Promise<void> {
    await this.#run(["resume", id], "OCI runtime resume failed");
  }

  /** Change a running container's cgroup limits (OCI linux.resources JSON). */
  async update(id: string, resources: object): Promise<void> {
    await this.#run(["update", "--resources", "-", id], "OCI runtime update failed", JSON.stringify(resources));
  }

  /** Idempotent: a missing container is fine. */
  async delete(id: string, force = false): Promise<void> {
    try {
      await this.#run(force ? ["delete", "--force", id] : ["delete", id], "OCI runtime delete failed");
    } catch (err) {
      if (err instanceof Error && /does not exist|not found/i.test(err.message)) return;
      throw err;
    }
  }

  async state(id: string): Promise<RuncState | null> {
    try {
      return JSON.parse(await this.#run(["state", id], "OCI runtime state failed")) as RuncState;
    } catch (err) {
      if (err instanceof Error && /does not exist|not found/i.test(err.message)) return null;
      throw err;
    }
  }
}
