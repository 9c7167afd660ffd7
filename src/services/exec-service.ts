import { mkdirSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { conflict, invalidArgument, notFound } from "../errdefs/index.js";
import { hostCapabilities } from "../containers/capabilities.js";
import { execProcessSpec } from "../containers/exec-process.js";
import { spawnExec, type ExecSession } from "../containers/exec-session.js";
import { resolveUser } from "../containers/user.js";
import { resolveInRoot } from "../images/layer/index.js";
import type { OciProcess, OciSpec } from "../spec/oci-runtime.js";
import { gatherHostInfo } from "../sys/host-facts.js";
import { newId } from "../util/index.js";
import type { Logger } from "../util/logger.js";
import { stopwatch, type Stopwatch } from "../util/stopwatch.js";
import type { EventSink } from "./events.js";
import type { ContainersService } from "./types.js";

/** POST /containers/{id}/exec body (the fields Berth honours). */
export interface ExecCreateBody {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  DetachKeys?: string;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
}

/** GET /exec/{id}/json */
export interface ExecInspect {
  CanRemove: boolean;
  ContainerID: string;
  DetachKeys: string;
  ExitCode: number | null;
  ID: string;
  OpenStderr: boolean;
  OpenStdin: boolean;
  OpenStdout: boolean;
  ProcessConfig: { arguments: string[]; entrypoint: string; privileged: boolean; tty: boolean; user: string };
  Running: boolean;
  Pid: number;
}

interface ExecRecord {
  id: string;
  containerId: string;
  containerName: string;
  image: string;
  body: ExecCreateBody;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  session: ExecSession | null;
  pendingSize: [number, number] | null;
  endedAt: number;
  sw: Stopwatch | null;
  /** The process's pid, read from runc's pid file when first asked for (the session caches it past the exit). */
  pidOf: (() => Promise<number>) | null;
}

/** What an attached exec start hands the transport. */
export interface ExecStreams {
  tty: boolean;
  stdout: Readable | null;
  stderr: Readable | null;
  /** Resolves after the process ended; runtimeError is Docker's "OCI runtime exec failed" text when it never ran. */
  done: Promise<{ code: number; runtimeError: string | null }>;
}

export interface ExecServiceOptions {
  containers: ContainersService;
  execRoot: string;
  runtime?: string;
  events?: EventSink;
  logger?: Logger;
}

const RUNTIMES: Record<string, string> = { runc: "/usr/sbin/runc", crun: "/usr/bin/crun" };
const KEEP_FINISHED_MS = 10 * 60_000;

/** Docker's exec: extra processes in a running container through `runc exec`. */
export class ExecService {
  readonly #containers: ContainersService;
  readonly #execRoot: string;
  readonly #runtime: string;
  readonly #events: EventSink | undefined;
  readonly #log: Logger | undefined;
  readonly #execs = new Map<string, ExecRecord>();
  readonly #processes = new Map<string, { startedAt: string; process: OciProcess }>();
  #hostCaps: string[] | null = null;

  constructor(o: ExecServiceOptions) {
    this.#containers = o.containers;
    this.#execRoot = o.execRoot;
    const rt = o.runtime ?? "runc";
    this.#runtime = RUNTIMES[rt] ?? rt;
    this.#events = o.events;
    this.#log = o.logger;
  }

  async create(ref: string, body: ExecCreateBody): Promise<{ Id: string }> {
    if (!body || typeof body !== "object") throw invalidArgument("config cannot be empty in order to create an exec");
    if (!Array.isArray(body.Cmd) || body.Cmd.length === 0) throw invalidArgument("No exec command specified");
    const c = await this.#containers.inspect(ref);
    this.#checkRunning(c.Id, c.State.Status);
    this.#sweep();
    const id = newId();
    const rec: ExecRecord = {
      id, containerId: c.Id, containerName: c.Name.replace(/^\//, ""), image: c.Config?.Image ?? c.Image, body: { ...body },
      running: false, started: false, exitCode: null, pid: 0, session: null, pendingSize: body.ConsoleSize ?? null, endedAt: 0, sw: null, pidOf: null,
    };
    this.#execs.set(id, rec);
    this.#emit(rec, `exec_create: ${body.Cmd.join(" ")}`);
    return { Id: id };
  }

  async inspect(id: string): Promise<ExecInspect> {
    const r = this.#get(id);
    if (!r.pid && r.pidOf) r.pid = await r.pidOf();
    const [entrypoint, ...args] = r.body.Cmd ?? [];
    return {
      CanRemove: false, ContainerID: r.containerId, DetachKeys: r.body.DetachKeys ?? "", ExitCode: r.exitCode, ID: r.id,
      OpenStderr: !!r.body.AttachStderr, OpenStdin: !!r.body.AttachStdin, OpenStdout: !!r.body.AttachStdout,
      ProcessConfig: { arguments: args, entrypoint: entrypoint ?? "", privileged: !!r.body.Privileged, tty: !!r.body.Tty, user: r.body.User ?? "" },
      Running: r.running, Pid: r.pid,
    };
  }

  /** Whether the exec has a TTY (the transport picks raw or multiplexed framing before starting). */
  tty(id: string, override?: boolean): boolean {
    const r = this.#get(id);
    return override ?? !!r.body.Tty;
  }

  /** Start detached: output is discarded, the exit code recorded. */
  async startDetached(id: string): Promise<void> {
    const r = this.#claim(id);
    const s = await this.#spawn(r, { detach: true, stdin: null });
    void this.#track(r, s);
  }

  /** Start attached: stdin from the client (EOF closes the process's stdin), stdout/stderr for the client. */
  async startAttached(id: string, stdin: Readable | null, tty?: boolean): Promise<ExecStreams> {
    const r = this.#claim(id);
    if (tty !== undefined) r.body.Tty = tty;
    const s = await this.#spawn(r, { detach: false, stdin: r.body.AttachStdin ? stdin : null });
    return {
      tty: !!r.body.Tty,
      stdout: r.body.AttachStdout || r.body.Tty ? s.stdout : drain(s.stdout),
      stderr: r.body.AttachStderr ? s.stderr : drain(s.stderr),
      done: this.#track(r, s),
    };
  }

  resize(id: string, h: number, w: number): void {
    const r = this.#get(id);
    if (!Number.isInteger(h) || !Number.isInteger(w) || h < 0 || w < 0) throw invalidArgument("invalid resize dimensions");
    if (!r.body.Tty) throw conflict(`exec ${id} has no TTY`);
    if (r.session) r.session.resize(h, w);
    else r.pendingSize = [h, w];
  }

  #get(id: string): ExecRecord {
    const r = this.#execs.get(id);
    if (!r) throw notFound(`No such exec instance: ${id}`);
    return r;
  }

  #claim(id: string): ExecRecord {
    const r = this.#get(id);
    if (r.started) throw conflict(r.running ? `Error: Exec command ${id} is already running` : `Error: Exec command ${id} has already run`);
    r.started = true;
    return r;
  }

  #checkRunning(id: string, status: string): void {
    if (status === "paused") throw conflict(`Container ${id} is paused, unpause the container before exec`);
    if (status === "restarting") throw conflict(`Container ${id} is restarting, wait until the container is running`);
    if (status !== "running") throw conflict(`Container ${id} is not running`);
  }

  async #spawn(r: ExecRecord, o: { detach: boolean; stdin: Readable | null }): Promise<ExecSession> {
    const sw = this.#log ? stopwatch(this.#log, "exec") : null;
    r.sw = sw;
    try {
      const c = await this.#containers.inspect(r.containerId);
      sw?.lap("inspect");
      this.#checkRunning(c.Id, c.State.Status);
      const rootfs = c.GraphDriver.Data?.MergedDir;
      if (!rootfs) throw conflict(`Container ${c.Id} is not running`);
      const base = await this.#baseProcess(c.Id, c.State.StartedAt, join(dirname(rootfs), "config.json"));
      sw?.lap("config");
      let user;
      if (r.body.User) {
        const [passwd, group] = await Promise.all([readIn(rootfs, "/etc/passwd"), readIn(rootfs, "/etc/group")]);
        user = resolveUser(r.body.User, passwd, group);
      }
      if (r.body.Privileged && !this.#hostCaps) {
        const host = await gatherHostInfo();
        this.#hostCaps = hostCapabilities(host.lastCap, host.bounding);
      }
      const proc = execProcessSpec(base, {
        cmd: r.body.Cmd ?? [], env: r.body.Env ?? [], workingDir: r.body.WorkingDir ?? "", tty: !!r.body.Tty,
        consoleSize: r.pendingSize, ...(user ? { user } : {}), ...(r.body.Privileged && this.#hostCaps ? { privilegedCaps: this.#hostCaps } : {}),
      });
      const workDir = join(this.#execRoot, "execs", r.id);
      // execs/ is tmpfs (see exec-work-dir): these cost microseconds, less than a trip through the busy libuv pool.
      mkdirSync(workDir, { recursive: true, mode: 0o700 });
      const processFile = join(workDir, "process.json");
      writeFileSync(processFile, JSON.stringify(proc));
      sw?.lap("write");
      const s = spawnExec({
        runtime: this.#runtime, runtimeRoot: join(this.#execRoot, "runc"), containerId: c.Id, processFile, workDir,
        tty: !!r.body.Tty, stdin: !!o.stdin, detach: o.detach,
      });
      sw?.lap("spawn");
      r.session = s;
      r.pidOf = s.pid;
      r.running = true;
      if (o.stdin && s.stdin) {
        const dst: Writable = s.stdin;
        o.stdin.on("data", (d: Buffer) => { if (!dst.write(d)) { o.stdin!.pause(); dst.once("drain", () => o.stdin!.resume()); } });
        // Without a TTY the client's half-close is the process's EOF; with one, the terminal stays open.
        o.stdin.once("end", () => { if (!r.body.Tty) dst.end(); });
        o.stdin.on("error", () => {});
        o.stdin.resume();
      }
      this.#emit(r, `exec_start: ${(r.body.Cmd ?? []).join(" ")}`);
      return s;
    } catch (err) {
      r.running = false;
      r.exitCode = 126;
      r.endedAt = Date.now();
      throw err;
    }
  }

  async #track(r: ExecRecord, s: ExecSession): Promise<{ code: number; runtimeError: string | null }> {
    const res = await s.exited;
    r.sw?.lap("run");
    let code = res.code;
    let runtimeError: string | null = null;
    if (res.runtimeError) {
      runtimeError = `OCI runtime exec failed: ${res.runtimeError}: unknown`;
      code = /executable file not found|no such file or directory/i.test(res.runtimeError) ? 127 : 126;
    }
    r.exitCode = code;
    r.running = false;
    r.session = null;
    r.endedAt = Date.now();
    this.#emit(r, "exec_die", { exitCode: String(code) });
    r.sw?.done({ id: r.id.slice(0, 12) });
    r.sw = null;
    return { code, runtimeError };
  }

  /** The container's process settings, read once per start of the container (its bundle is rewritten only by a start). */
  async #baseProcess(id: string, startedAt: string, configPath: string): Promise<OciProcess> {
    const hit = this.#processes.get(id);
    if (hit && hit.startedAt === startedAt) return hit.process;
    const spec = JSON.parse(await readFile(configPath, "utf8")) as OciSpec;
    if (!spec.process) throw conflict(`Container ${id} has no process to exec in`);
    this.#processes.set(id, { startedAt, process: spec.process });
    return spec.process;
  }

  #emit(r: ExecRecord, action: string, extra: Record<string, string> = {}): void {
    this.#events?.publish("container", action, r.containerId, { execID: r.id, image: r.image, name: r.containerName, ...extra });
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, r] of this.#execs) if (!r.running && r.endedAt && now - r.endedAt > KEEP_FINISHED_MS) this.#execs.delete(id);
    const live = new Set([...this.#execs.values()].map((r) => r.containerId));
    for (const id of this.#processes.keys()) if (!live.has(id)) this.#processes.delete(id);
  }
}

async function readIn(rootfs: string, path: string): Promise<string | null> {
  try {
    return await readFile(await resolveInRoot(rootfs, path), "utf8");
  } catch {
    return null;
  }
}

function drain(s: Readable | null): null {
  s?.resume();
  return null;
}
