import { spawn, type ChildProcess } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { PYTHON } from "../sys/attach-stdin.js";

// runc hands a TTY's master over a Unix socket with SCM_RIGHTS, which Node cannot receive; python3 can.
// The helper listens on the console socket, runs runc, then relays: fd 0 -> pty, pty -> fd 1, and
// "h w" lines on fd 3 become TIOCSWINSZ. runc only takes a console socket when it detaches (-d), so the helper
// makes itself a child subreaper, adopts the exec'd process and exits with its status.
const TTY_HELPER = `
import array, ctypes, fcntl, os, select, socket, struct, subprocess, sys, termios
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
sock_path = sys.argv[1]
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
l.bind(sock_path)
l.listen(1)
p = subprocess.Popen(sys.argv[2:-1] + ["--console-socket", sock_path, sys.argv[-1]], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=2)
master = None
while master is None:
    r, _, _ = select.select([l], [], [], 0.05)
    if l in r:
        c, _ = l.accept()
        fds = array.array("i")
        msg, anc, flags, addr = c.recvmsg(4096, socket.CMSG_SPACE(4))
        for level, typ, data in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fds.frombytes(data[:4])
        c.close()
        master = fds[0]
    elif p.poll() is not None:
        sys.exit(p.returncode)
l.close()
os.unlink(sock_path)
rc = p.wait()
if rc != 0:
    sys.exit(rc)
pid = int(open("pid").read().strip())
ins = [master, 0, 3]
while master in ins:
    r, _, _ = select.select(ins, [], [])
    if master in r:
        try:
            d = os.read(master, 65536)
        except OSError:
            d = b""
        if not d:
            break
        os.write(1, d)
    if 0 in r:
        d = os.read(0, 65536)
        if not d:
            ins.remove(0)
        else:
            os.write(master, d)
    if 3 in r:
        d = os.read(3, 4096)
        if not d:
            ins.remove(3)
        for line in d.decode().splitlines():
            h, w = (int(x) for x in line.split())
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", h, w, 0, 0))
while True:
    try:
        wpid, status = os.waitpid(-1, 0)
    except ChildProcessError:
        sys.exit(255)
    if wpid == pid:
        sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
`;

export interface ExecSpawnOptions {
  runtime: string;          // runc binary
  runtimeRoot: string;      // runc --root
  containerId: string;
  processFile: string;      // process.json
  workDir: string;          // a private directory for the pid file, the runtime log and the console socket
  tty: boolean;
  stdin: boolean;
  detach: boolean;
}

export interface ExecSession {
  child: ChildProcess;
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;   // null with a TTY (one stream)
  /** The exec'd process's pid on the host once runc started it. */
  pid(): Promise<number>;
  /** The exit code, and the runtime's error when it could not start the process. */
  exited: Promise<{ code: number; runtimeError: string | null }>;
  resize(h: number, w: number): void;
}

/** `runc exec` of process.json in a running container, the daemon holding its stdio (or /dev/null when detached). */
export function spawnExec(o: ExecSpawnOptions): ExecSession {
  const pidFile = join(o.workDir, "pid");
  const logFile = join(o.workDir, "runtime.log");
  const runcArgs = [o.runtime, "--root", o.runtimeRoot, "--log", logFile, "--log-format", "json", "exec", "--process", o.processFile, "--pid-file", pidFile];
  let child: ChildProcess;
  if (o.tty) {
    runcArgs.push("--tty", "--detach", o.containerId);
    // Relative socket path: the absolute one may exceed sun_path.
    child = spawn(PYTHON, ["-S", "-c", TTY_HELPER, "console.sock", ...runcArgs], {
      cwd: o.workDir, stdio: [o.detach ? "ignore" : "pipe", o.detach ? "ignore" : "pipe", "pipe", "pipe"], detached: o.detach,
    });
  } else {
    runcArgs.push(o.containerId);
    child = spawn(runcArgs[0]!, runcArgs.slice(1), {
      stdio: [o.stdin && !o.detach ? "pipe" : "ignore", o.detach ? "ignore" : "pipe", o.detach ? "ignore" : "pipe"], detached: o.detach,
    });
  }
  const ctl = o.tty ? (child.stdio[3] as Writable) : null;
  ctl?.on("error", () => {});
  child.stdin?.on("error", () => {});
  let helperErr = "";
  if (o.tty) child.stderr!.setEncoding("utf8").on("data", (d: string) => { helperErr += d; });
  // The pid file is read on demand (inspect, a health probe's kill), never polled while the exec runs.
  let pidRead: Promise<number> | null = null;
  const pid = (): Promise<number> => (pidRead ??= readPid(pidFile, child).then((n) => {
    if (n === 0 && child.exitCode === null && child.signalCode === null) pidRead = null;   // not written yet: ask again later
    return n;
  }));
  const exited = new Promise<{ code: number; runtimeError: string | null }>((resolve) => {
    child.on("error", (err) => resolve({ code: 126, runtimeError: err.message }));
    child.on("exit", (code, sig) => {
      ctl?.destroy();
      const c = code ?? (sig ? 128 + (signalNumbers[sig] ?? 9) : 255);
      // The work directory goes in the background: the exit code is the caller's the instant runc returns.
      const cleanup = () => void pid().finally(() => rm(o.workDir, { recursive: true, force: true }).catch(() => {}));
      if (c === 0) {
        resolve({ code: 0, runtimeError: null });
        cleanup();
        return;
      }
      // Only a failure can carry a runtime error (the process never ran); runc's log says which.
      void readFile(logFile, "utf8").catch(() => "").then((log) => {
        let runtimeError: string | null = null;
        for (const line of log.split("\n")) {
          try {
            const m = JSON.parse(line) as { level?: string; msg?: string };
            if (m.level === "error" && m.msg) runtimeError = m.msg;
          } catch { /* partial line */ }
        }
        if (!runtimeError && o.tty && /Traceback/.test(helperErr)) runtimeError = helperErr.trim().split("\n").pop() ?? helperErr;
        resolve({ code: c, runtimeError });
        cleanup();
      });
    });
  });
  if (o.detach) child.unref();
  return {
    child,
    stdin: o.detach ? null : child.stdin,
    stdout: o.detach ? null : child.stdout,
    stderr: o.detach || o.tty ? null : child.stderr,
    pid,
    exited,
    resize(h, w) {
      if (ctl && !ctl.destroyed && h > 0 && w > 0) ctl.write(`${h} ${w}\n`);
    },
  };
}

/** The exec'd process's pid from runc's pid file; 0 when runc ended without writing one. */
async function readPid(pidFile: string, child: ChildProcess): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const n = Number((await readFile(pidFile, "utf8").catch(() => "")).trim());
    if (n > 0) return n;
    if (child.exitCode !== null || child.signalCode !== null) return 0;
    await new Promise((r) => setTimeout(r, 5));
  }
  return 0;
}

const signalNumbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 };
