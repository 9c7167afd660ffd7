import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDaemon, run, REPO, type TestDaemon, type RunResult } from "../helpers/daemon.js";

/** An engine under benchmark: something the docker CLI can talk to, with a pid to measure. */
export interface Engine {
  name: string;
  host: string;
  /** pids whose RSS is the engine's own (daemon + helpers such as containerd). */
  daemonPids(): Promise<number[]>;
  /** pids of the per-container monitors (conmon, containerd-shim). */
  monitorPids(): Promise<number[]>;
  docker(args: string[]): Promise<RunResult>;
  /** `runc exec <id> <cmd>` straight against the engine's runc state: the runtime's own share of an exec. */
  runcExec(id: string, cmd: string[]): Promise<RunResult>;
  stop(): Promise<void>;
}

export async function startBerth(opts: { args?: string[] } = {}): Promise<{ engine: Engine; daemon: TestDaemon }> {
  const d = await startDaemon(opts);
  const tarPath = join(d.root, "busybox.tar");
  await run(process.execPath, [join(REPO, "scripts/busybox-rootfs.mjs"), tarPath]);
  const imp = await d.docker(["import", "--change", 'CMD ["sh"]', tarPath, "busybox:latest"]);
  if (imp.code !== 0) throw new Error(imp.stderr);
  return {
    daemon: d,
    engine: {
      name: "berthd",
      host: d.host,
      daemonPids: async () => [d.proc.pid!],
      monitorPids: async () => pidsMatching((args) => args.startsWith("/usr/bin/conmon") || args.startsWith("conmon") ? args.includes(d.root) : false),
      docker: (args) => d.docker(args),
      runcExec: (id, cmd) => run("/usr/sbin/runc", ["--root", join(d.execRoot, "runc"), "exec", id, ...cmd]),
      stop: () => d.stop(),
    },
  };
}

/**
 * Debian's dockerd 20.10 on its own data root and socket, with no bridge or iptables changes.
 * network: dockerd's networking flags instead (e.g. a bridge of the caller's own, still without iptables).
 */
export async function startDockerd(opts: { network?: string[] } = {}): Promise<Engine | null> {
  if (!existsSync("/usr/sbin/dockerd")) return null;
  const root = await mkdtemp(join(tmpdir(), "berth-bench-dockerd-"));
  const sock = join(root, "docker.sock");
  const host = `unix://${sock}`;
  const proc: ChildProcess = spawn("/usr/sbin/dockerd", [
    "--data-root", join(root, "data"), "--exec-root", join(root, "exec"), "-H", host, "--pidfile", join(root, "dockerd.pid"),
    ...(opts.network ?? ["--bridge", "none", "--iptables=false", "--ip-masq=false"]), "--containerd-namespace", "berthbench", "--storage-driver", "overlay2",
  ], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout!.on("data", (c) => { log += c; });
  proc.stderr!.on("data", (c) => { log += c; });
  const env = { DOCKER_HOST: host, DOCKER_CONFIG: join(root, "cfg") };
  const docker = (args: string[]) => run("docker", args, { env, timeoutMs: 120_000 });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await docker(["version"])).code !== 0) {
    if (proc.exitCode !== null) throw new Error(`dockerd exited: ${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const tarPath = join(root, "busybox.tar");
  await run(process.execPath, [join(REPO, "scripts/busybox-rootfs.mjs"), tarPath]);
  const imp = await docker(["import", "--change", 'CMD ["sh"]', tarPath, "busybox:latest"]);
  if (imp.code !== 0) throw new Error(`dockerd import: ${imp.stderr}\n${log}`);
  return {
    name: "dockerd",
    host,
    daemonPids: async () => [proc.pid!, ...(await pidsMatching((a) => a.includes("containerd") && !a.includes("shim") && a.includes(root)))],
    monitorPids: async () => pidsMatching((a) => a.includes("containerd-shim") && a.includes("berthbench")),
    docker,
    runcExec: (id, cmd) => run("/usr/sbin/runc", ["--root", join(root, "exec", "runtime-runc", "berthbench"), "exec", id, ...cmd]),
    async stop() {
      const ids = (await docker(["ps", "-aq"])).stdout.split("\n").filter(Boolean);
      if (ids.length) await docker(["rm", "-f", ...ids]);
      proc.kill("SIGTERM");
      await new Promise<void>((r) => { if (proc.exitCode !== null) r(); else proc.once("exit", () => r()); setTimeout(() => { proc.kill("SIGKILL"); r(); }, 15_000); });
      const mounts = (await readFile("/proc/self/mountinfo", "utf8")).split("\n").map((l) => l.split(" ")[4]).filter((p): p is string => !!p && p.startsWith(root)).sort((a, b) => b.length - a.length);
      for (const m of mounts) await run("umount", ["-l", m]);
      await rm(root, { recursive: true, force: true });
    },
  };
}

export async function pidsMatching(pred: (args: string) => boolean): Promise<number[]> {
  const ps = await run("ps", ["-eo", "pid=,args="]);
  return ps.stdout.split("\n").map((l) => /^\s*(\d+)\s+(.*)$/.exec(l)).filter((m): m is RegExpExecArray => !!m && pred(m[2]!)).map((m) => Number(m[1]));
}

export async function rssKb(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch { return 0; }
}

/** Proportional set size: shared library pages counted once across the processes that map them. */
export async function pssKb(pid: number): Promise<number> {
  try {
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8");
    return Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
  } catch { return 0; }
}

export { writeFile };
