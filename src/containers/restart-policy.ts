import { invalidArgument } from "../errdefs/index.js";
import type { RestartPolicy } from "../spec/engine.js";

export function validateRestartPolicy(p: RestartPolicy | undefined, autoRemove: boolean): void {
  if (!p) return;
  const name = p.Name ?? "";
  if (!["", "no", "always", "unless-stopped", "on-failure"].includes(name)) throw invalidArgument(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  if ((p.MaximumRetryCount ?? 0) < 0) throw invalidArgument("invalid restart policy: maximum retry count must be a positive integer");
  if (name !== "on-failure" && (p.MaximumRetryCount ?? 0) > 0) throw invalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  if (autoRemove && name !== "" && name !== "no") throw invalidArgument("conflicting options: cannot specify both --restart and --rm");
}

/** Docker's restartmanager decision after an exit. */
export function shouldRestart(p: RestartPolicy | undefined, exitCode: number, restartCount: number, manuallyStopped: boolean): boolean {
  if (manuallyStopped || !p) return false;
  switch (p.Name) {
    case "always":
    case "unless-stopped":
      return true;
    case "on-failure":
      return exitCode !== 0 && (!p.MaximumRetryCount || restartCount < p.MaximumRetryCount);
    default:
      return false;
  }
}

const MAX_DELAY = 60_000;

/** Backoff: 100 ms doubling per restart, reset when the last run lasted at least 10 s. */
export function nextBackoff(previous: number, ranMs: number): number {
  if (ranMs >= 10_000) return 100;
  return Math.min(previous ? previous * 2 : 100, MAX_DELAY);
}
