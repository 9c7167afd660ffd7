import { mkdir, statfs } from "node:fs/promises";
import { systemError } from "../errdefs/index.js";
import { execFileCapture } from "./exec.js";
import { isMountPoint } from "./mount.js";

const TMPFS_MAGIC = 0x01021994;

export interface TmpfsOptions {
  /** Upper bound of the memory it may use, as mount(8) takes it ("16m"). */
  size: string;
}

/**
 * A private, memory-backed directory at dir: left as it is when it already lies on tmpfs, otherwise a tmpfs
 * (mode 0700, nosuid, nodev, noexec) is mounted there. True when dir is a mount point of its own, which its
 * owner unmounts when done.
 */
export async function ensureTmpfs(dir: string, o: TmpfsOptions): Promise<boolean> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if ((await statfs(dir)).type === TMPFS_MAGIC) return isMountPoint(dir);
  const r = await execFileCapture("mount", ["-t", "tmpfs", "-o", `mode=0700,size=${o.size},nosuid,nodev,noexec`, "tmpfs", dir]);
  if (r.code !== 0) throw systemError(`mount tmpfs on ${dir}: ${r.stderr.trim()}`);
  return true;
}
