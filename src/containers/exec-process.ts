import type { OciProcess, OciUser } from "../spec/oci-runtime.js";

export interface ExecProcessOptions {
  cmd: string[];
  env?: string[];
  workingDir?: string;
  user?: OciUser;              // resolved exec user; the container's when absent
  tty: boolean;
  consoleSize?: [number, number] | null;   // [height, width]
  privilegedCaps?: string[];   // set for --privileged: every capability the host can grant
}

/** The process.json for `runc exec`: the container's own process settings with the exec's overrides. */
export function execProcessSpec(base: OciProcess, o: ExecProcessOptions): OciProcess {
  const env = mergeEnv(base.env ?? [], o.env ?? []);
  if (o.tty && !env.some((e) => e.startsWith("TERM="))) env.push("TERM=xterm");
  const p: OciProcess = {
    ...base,
    terminal: o.tty,
    args: o.cmd,
    env,
    cwd: o.workingDir || base.cwd || "/",
    user: o.user ?? base.user,
  };
  delete p.consoleSize;
  if (o.tty && o.consoleSize && o.consoleSize[0] > 0 && o.consoleSize[1] > 0) {
    p.consoleSize = { height: o.consoleSize[0], width: o.consoleSize[1] };
  }
  if (o.privilegedCaps) {
    const caps = o.privilegedCaps;
    p.capabilities = { bounding: caps, effective: caps, permitted: caps, ...(base.capabilities?.inheritable ? { inheritable: caps } : {}) };
  }
  return p;
}

/** KEY=VALUE lists: later entries replace earlier ones with the same key; a bare KEY is kept as given. */
export function mergeEnv(base: string[], extra: string[]): string[] {
  const out = [...base];
  for (const e of extra) {
    const key = e.includes("=") ? e.slice(0, e.indexOf("=")) : e;
    const i = out.findIndex((x) => (x.includes("=") ? x.slice(0, x.indexOf("=")) : x) === key);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}
