import { spawn } from "node:child_process";
import { systemError } from "../errdefs/index.js";

export interface ExecResult { code: number; stdout: string; stderr: string }

/** Run a program to completion, capturing small outputs. Never a shell. */
export function execFileCapture(file: string, args: string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"], env: opts.env ?? process.env });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => { stdout += d; });
    child.stderr!.setEncoding("utf8").on("data", (d: string) => { stderr += d; });
    const timer = opts.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs) : null;
    child.on("error", (err) => { if (timer) clearTimeout(timer); reject(systemError(`${file}: ${err.message}`, { cause: err })); });
    child.on("close", (code, sig) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (sig ? 128 : 1), stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Like execFileCapture but throws a system error carrying stderr on a non-zero exit. */
export async function execFileChecked(file: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await execFileCapture(file, args, opts);
  if (r.code !== 0) throw systemError(`${file} ${args.join(" ")}: ${r.stderr.trim() || `exit status ${r.code}`}`);
  return r.stdout;
}
