import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { ensureTmpfs } from "../sys/tmpfs.js";
import { unmountAll } from "../sys/mount.js";

/**
 * `<execRoot>/execs`, where execs and health probes keep their work files (process.json, pid, runtime log). They churn
 * per exec, so they live in memory (a tmpfs unless the exec root already is one). Whatever a killed daemon left there
 * is cleared: no record refers to it any more. Returns how to release it when the daemon stops.
 */
export async function prepareExecWorkDir(execRoot: string): Promise<() => Promise<void>> {
  const dir = join(execRoot, "execs");
  const mounted = await ensureTmpfs(dir, { size: "64m" });
  for (const e of await readdir(dir)) await rm(join(dir, e), { recursive: true, force: true });
  return mounted ? () => unmountAll(dir) : async () => {};
}
