import { invalidArgument } from "../errdefs/index.js";

export const DEFAULT_HOST = "unix:///run/berth/berth.sock";

export interface DaemonHost {
  /** As the user wrote it (for messages), normalised to a unix:// URL. */
  url: string;
  socketPath: string;
}

/** -H/--host, then BERTH_HOST, then DOCKER_HOST, then the default. Only unix sockets are supported. */
export function resolveHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): DaemonHost {
  const raw = flag || env.BERTH_HOST || env.DOCKER_HOST || DEFAULT_HOST;
  return parseHost(raw);
}

export function parseHost(raw: string): DaemonHost {
  if (raw.startsWith("unix://")) {
    const socketPath = raw.slice("unix://".length);
    if (!socketPath) throw invalidArgument(`invalid bind address (${raw}): path is empty`);
    return { url: raw, socketPath };
  }
  if (raw.startsWith("/")) return { url: `unix://${raw}`, socketPath: raw };
  const scheme = /^([a-z]+):\/\//.exec(raw)?.[1];
  if (scheme) throw invalidArgument(`unsupported host scheme "${scheme}" (${raw}): only unix:// is supported`);
  throw invalidArgument(`invalid host "${raw}": expected unix:///path/to/socket`);
}
