import { readFile } from "node:fs/promises";
import { systemError } from "../errdefs/index.js";
import type { Mount } from "../snapshots/snapshotter.js";
import { execFileCapture } from "./exec.js";

/** Mount the snapshotter's mount specs on target (mount(8); overlay options can be long). */
export async function mountAll(mounts: Mount[], target: string): Promise<void> {
  for (const m of mounts) {
    const opts = m.options.join(",");
    const args = ["-t", m.type === "bind" ? "none" : m.type];
    if (opts) args.push("-o", m.type === "bind" && !m.options.some((o) => o === "bind" || o === "rbind") ? `bind,${opts}` : opts);
    args.push(m.source, target);
    const r = await execFileCapture("mount", args);
    if (r.code !== 0) throw systemError(`mount ${target}: ${r.stderr.trim()}`);
  }
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export async function isMountPoint(target: string): Promise<boolean> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  for (const line of info.split("\n")) {
    const f = line.split(" ");
    if (f[4] && unescapeMountinfo(f[4]) === target) return true;
  }
  return false;
}

/** Unmount everything stacked on target; falls back to a lazy unmount when busy. Idempotent. */
export async function unmountAll(target: string): Promise<void> {
  for (let i = 0; i < 8; i++) {
    if (!(await isMountPoint(target))) return;
    const r = await execFileCapture("umount", [target]);
    if (r.code === 0) continue;
    if (/not mounted|no mount point/i.test(r.stderr)) return;
    const lazy = await execFileCapture("umount", ["-l", target]);
    if (lazy.code !== 0 && !/not mounted/i.test(lazy.stderr)) throw systemError(`umount ${target}: ${lazy.stderr.trim()}`);
  }
}
