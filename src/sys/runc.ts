import { notFound, systemError } from "../errdefs/index.js";
import { execFileCapture } from "./exec.js";

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

  async start(id: string): Promise<void> {
    await this.#run(["start", id], "OCI runtime start failed");
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
