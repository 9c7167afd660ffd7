import { spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { systemError } from "../errdefs/index.js";
import { runtimeMessage } from "./runc.js";

export interface ConmonOptions {
  conmon?: string;              // default /usr/bin/conmon
  runtime: string;              // runtime binary path
  runtimeRoot: string;          // --root for the runtime
  id: string;
  name: string;
  bundle: string;
  pidFile: string;              // container init pid
  conmonPidFile: string;
  exitDir: string;
  socketDir: string;
  persistDir: string;           // conmon writes "oom" here
  logPath: string;              // k8s-file
  stdin?: boolean;
  stdinOnce?: boolean;          // close the container's stdin when the first attached client detaches
  tty?: boolean;
  systemdCgroup?: boolean;
  logSizeMax?: number;
}

export class RuntimeCreateError extends Error {}

export interface ConmonLaunch {
  /**
   * Let conmon go on: it double-forks, runs `<runtime> create` (the bundle's config.json must be in place) and
   * stays as the container's monitor. Resolves with the container's init pid once the runtime created it (read
   * from the sync pipe); rejects with the runtime's message otherwise. The container is left "created": call
   * `runtime start`.
   */
  create(): Promise<{ pid: number }>;
  /** Never let it create: ends the conmon still waiting on its start pipe. Idempotent; a no-op after create(). */
  abort(): void;
}

/**
 * Spawn conmon now, holding it on its start pipe (_OCI_STARTPIPE, as podman and CRI-O use it) until create():
 * its exec and start-up then overlap the caller's own preparation of the bundle.
 */
export function launchConmon(o: ConmonOptions): ConmonLaunch {
  const args = [
    "--api-version", "1", "-c", o.id, "-u", o.id, "-r", o.runtime, "-b", o.bundle, "-p", o.pidFile, "-n", o.name,
    "--exit-dir", o.exitDir, "-l", `k8s-file:${o.logPath}`, "--log-level", "warning", "--socket-dir-path", o.socketDir,
    "--conmon-pidfile", o.conmonPidFile, "-0", o.persistDir, "--runtime-arg", `--root=${o.runtimeRoot}`,
    // conmon fsyncs the log before it writes the exit file, which delays every exit; Docker's json-file never fsyncs either.
    "--no-sync-log",
  ];
  if (o.systemdCgroup) args.push("-s");
  if (o.stdin) args.push("-i");
  if (o.stdin && !o.stdinOnce) args.push("--leave-stdin-open");
  if (o.tty) args.push("-t");
  if (o.logSizeMax && o.logSizeMax > 0) args.push("--log-size-max", String(o.logSizeMax));
  const child = spawn(o.conmon ?? "/usr/bin/conmon", args, {
    stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
    env: { _OCI_SYNCPIPE: "3", _OCI_STARTPIPE: "4", PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
    detached: true,
    // conmon writes files such as "oom" into its working directory: keep them in the bundle, never in the daemon's cwd.
    cwd: o.bundle,
  });
  const startPipe = child.stdio[4] as Writable;
  startPipe.on("error", () => {});
  let state: "waiting" | "creating" | "aborted" = "waiting";
  const result = new Promise<{ pid: number }>((resolve, reject) => {
    let out = "";
    let sync = "";
    let settled = false;
    const syncPipe = child.stdio[3] as Readable;
    const done = (err: Error | null, pid?: number) => {
      if (settled) return;
      settled = true;
      syncPipe.destroy();
      child.stdout!.destroy();
      child.stderr!.destroy();
      child.unref();
      if (err) reject(err);
      else resolve({ pid: pid! });
    };
    child.stdout!.setEncoding("utf8").on("data", (d: string) => { out += d; });
    child.stderr!.setEncoding("utf8").on("data", (d: string) => { out += d; });
    child.on("error", (err) => done(systemError(`conmon: ${err.message}`, { cause: err })));
    syncPipe.setEncoding("utf8");
    syncPipe.on("data", (d: string) => {
      sync += d;
      const nl = sync.indexOf("\n");
      if (nl < 0) return;
      let msg: { data?: number; message?: string };
      try {
        msg = JSON.parse(sync.slice(0, nl)) as { data?: number; message?: string };
      } catch {
        done(systemError(`conmon: unexpected sync message ${JSON.stringify(sync.slice(0, nl))}`));
        return;
      }
      if (typeof msg.data === "number" && msg.data > 0) done(null, msg.data);
      else done(new RuntimeCreateError(runtimeMessage(msg.message ?? "") || "container create failed"));
    });
    syncPipe.on("end", () => {
      if (!settled) done(systemError(`conmon exited without creating the container: ${out.trim() || "no output"}`));
    });
    child.on("exit", (code) => {
      if (code !== 0 && !settled) {
        setTimeout(() => done(systemError(`conmon failed (exit ${code}): ${out.trim()}`)), 50);
      }
    });
  });
  result.catch(() => {}); // observed through create(); an aborted launch has no one to tell
  return {
    create() {
      if (state === "aborted") return Promise.reject(systemError("conmon launch was aborted"));
      if (state === "waiting") {
        state = "creating";
        startPipe.end("0");
      }
      return result;
    },
    abort() {
      if (state !== "waiting") return;
      state = "aborted";
      // Killed before the pipe closes: on end-of-file conmon would go on and create the container.
      try { child.kill("SIGKILL"); } catch { /* already gone */ }
      startPipe.destroy();
    },
  };
}
