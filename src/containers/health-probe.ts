import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { OciSpec } from "../spec/oci-runtime.js";
import { newId } from "../util/index.js";
import { execProcessSpec } from "./exec-process.js";
import { spawnExec } from "./exec-session.js";
import { MAX_OUTPUT_BYTES, type HealthProbe } from "./health-monitor.js";

export interface ExecProbeOptions {
  runtime: string;          // runc binary
  runtimeRoot: string;      // runc --root
  containerId: string;
  /** The container's bundle config.json: the probe runs with its process settings (user, env, cwd, caps). */
  bundleConfig: string;
  /** Where per-probe work directories go (removed when the probe ends). */
  workRoot: string;
  cmd: string[];
  /** exec_create / exec_start / exec_die, as Docker reports them for health probes. */
  onExecEvent?: (action: string, attrs: Record<string, string>) => void;
}

/** A health probe that `runc exec`s the check in the running container, keeping the first 4096 bytes of its output. */
export function execProbe(o: ExecProbeOptions): HealthProbe {
  return async ({ signal, started }) => {
    const spec = JSON.parse(await readFile(o.bundleConfig, "utf8")) as OciSpec;
    if (!spec.process) throw new Error(`container ${o.containerId} has no process spec`);
    const proc = execProcessSpec(spec.process, { cmd: o.cmd, tty: false });
    const execId = newId();
    const workDir = join(o.workRoot, execId);
    await mkdir(workDir, { recursive: true, mode: 0o700 });
    const processFile = join(workDir, "process.json");
    await writeFile(processFile, JSON.stringify(proc));
    const text = o.cmd.join(" ");
    o.onExecEvent?.(`exec_create: ${text}`, { execID: execId });
    const s = spawnExec({
      runtime: o.runtime, runtimeRoot: o.runtimeRoot, containerId: o.containerId, processFile, workDir, tty: false, stdin: false, detach: false,
    });
    o.onExecEvent?.(`exec_start: ${text}`, { execID: execId });
    const out = new BoundedText(MAX_OUTPUT_BYTES);
    out.read(s.stdout);
    out.read(s.stderr);
    const kill = async () => {
      // SIGKILL the probe itself: runc cannot forward a SIGKILL sent to it.
      const pid = await s.pid();
      if (pid > 0) {
        try { process.kill(pid, "SIGKILL"); } catch { /* gone already */ }
      }
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGKILL");
    };
    const onAbort = () => void kill();
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    void s.pid().then((pid) => { if (pid > 0) started(); });
    try {
      const res = await s.exited;
      const code = res.runtimeError ? (/executable file not found|no such file or directory/i.test(res.runtimeError) ? 127 : 126) : res.code;
      o.onExecEvent?.("exec_die", { execID: execId, exitCode: String(code) });
      if (res.runtimeError && !signal.aborted) throw new Error(`OCI runtime exec failed: ${res.runtimeError}: unknown`);
      // A background child of the check may hold the pipes open: do not wait on it for long.
      await Promise.race([out.done(), new Promise((r) => setTimeout(r, 500).unref())]);
      return { exitCode: code, output: out.text() };
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  };
}

/** Output kept up to a byte limit; the rest is read and dropped ("..." marks the cut, as Docker's limitedBuffer). */
class BoundedText {
  readonly #chunks: Buffer[] = [];
  #size = 0;
  #truncated = false;
  readonly #ends: Promise<void>[] = [];

  constructor(readonly limit: number) {}

  read(stream: Readable | null): void {
    if (!stream) return;
    this.#ends.push(new Promise((resolve) => {
      stream.on("data", (d: Buffer) => {
        const keep = Math.min(this.limit - this.#size, d.length);
        if (keep > 0) { this.#chunks.push(d.subarray(0, keep)); this.#size += keep; }
        if (keep < d.length) this.#truncated = true;
      });
      stream.once("close", () => resolve());
      stream.once("error", () => resolve());
    }));
  }

  done(): Promise<void> {
    return Promise.all(this.#ends).then(() => {});
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString("utf8") + (this.#truncated ? "..." : "");
  }
}
