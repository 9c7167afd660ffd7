import { open, unlink, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { execFileCapture, execFileChecked } from "../sys/exec.js";
import { systemError } from "../errdefs/index.js";

/**
 * A persistent network namespace bind-mounted on a file of our own (not /run/netns, so each daemon
 * stays isolated), with loopback up. One spawn: unshare creates, binds and runs `ip` inside it.
 */
export async function createNetns(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const fh = await open(path, "wx", 0o444);
  await fh.close();
  const r = await execFileCapture("unshare", [`--net=${path}`, "ip", "link", "set", "lo", "up"]);
  if (r.code !== 0) {
    await removeNetns(path).catch(() => {});
    throw systemError(`create network namespace ${path}: ${r.stderr.trim()}`);
  }
}

/** Unmount and unlink; idempotent. Interfaces inside die with the namespace. */
export async function removeNetns(path: string): Promise<void> {
  const r = await execFileCapture("umount", [path]);
  if (r.code !== 0 && !/not mounted|no mount point|No such file/i.test(r.stderr)) {
    await execFileCapture("umount", ["-l", path]);
  }
  await unlink(path).catch((e: NodeJS.ErrnoException) => { if (e.code !== "ENOENT") throw e; });
}

export async function netnsExists(path: string): Promise<boolean> {
  const r = await execFileCapture("findmnt", ["-n", "-o", "FSTYPE", "--mountpoint", path]);
  return r.code === 0 && /nsfs|proc/.test(r.stdout);
}

/** Run a command inside the namespace (tests and diagnostics). */
export function execInNetns(path: string, argv: string[]): Promise<string> {
  return execFileChecked("nsenter", [`--net=${path}`, ...argv]);
}
