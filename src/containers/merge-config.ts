import { invalidArgument } from "../errdefs/index.js";
import type { ContainerConfig, ContainerCreateBody } from "../spec/engine.js";

const envKey = (e: string) => e.split("=", 1)[0]!;

/**
 * The container's Config: the create body over the image's config, as Docker merges them
 * (daemon/images merge): an Entrypoint given at create resets the image's Cmd.
 */
export function mergeConfig(image: ContainerConfig, body: ContainerCreateBody): ContainerConfig {
  const { HostConfig: _h, NetworkingConfig: _n, ...user } = body;
  const c: ContainerConfig = { ...user };
  if (!c.User) c.User = image.User ?? "";
  if (image.ExposedPorts) c.ExposedPorts = { ...image.ExposedPorts, ...(c.ExposedPorts ?? {}) };
  if (!c.Env?.length) c.Env = image.Env ? [...image.Env] : [];
  else {
    const keys = new Set(c.Env.map(envKey));
    for (const e of image.Env ?? []) if (!keys.has(envKey(e))) c.Env.push(e);
  }
  if (image.Labels) c.Labels = { ...image.Labels, ...(c.Labels ?? {}) };
  if (!c.Entrypoint?.length) {
    if (!c.Cmd?.length) {
      c.Cmd = image.Cmd ?? null;
      if (!c.Shell && image.Shell) c.Shell = image.Shell;
    }
    if (c.Entrypoint == null) c.Entrypoint = image.Entrypoint ?? null;
  }
  if (c.Entrypoint?.length === 1 && c.Entrypoint[0] === "") c.Entrypoint = null;
  if (!c.WorkingDir) c.WorkingDir = image.WorkingDir ?? "";
  if (image.Healthcheck) {
    // Field by field: `--health-interval` alone keeps the image's test, and the other way round.
    const h = { ...(c.Healthcheck ?? {}) };
    const ih = image.Healthcheck;
    if (!h.Test?.length && ih.Test) h.Test = ih.Test;
    for (const k of ["Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"] as const) if (!h[k] && ih[k]) h[k] = ih[k];
    c.Healthcheck = h;
  }
  if (image.Volumes) c.Volumes = { ...image.Volumes, ...(c.Volumes ?? {}) };
  if (!c.StopSignal && image.StopSignal) c.StopSignal = image.StopSignal;
  if (!c.OnBuild) c.OnBuild = null;
  c.Cmd ??= null;
  c.Entrypoint ??= null;
  if (![...(c.Entrypoint ?? []), ...(c.Cmd ?? [])].length) throw invalidArgument("No command specified");
  return c;
}

/** Path and Args as inspect shows them. */
export function pathAndArgs(c: ContainerConfig): { path: string; args: string[] } {
  const all = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  return { path: all[0] ?? "", args: all.slice(1) };
}

/** Docker's env: PATH, HOSTNAME, TERM (tty) replaced or extended by the container's Env. */
export function containerEnv(c: ContainerConfig, hostname: string): string[] {
  const env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", `HOSTNAME=${hostname}`];
  if (c.Tty) env.push("TERM=xterm");
  for (const e of c.Env ?? []) {
    const k = envKey(e);
    if (!e.includes("=")) continue;
    const i = env.findIndex((x) => envKey(x) === k);
    if (i >= 0) env[i] = e;
    else env.push(e);
  }
  return env;
}
