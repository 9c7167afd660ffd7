import { lstat, opendir } from "node:fs/promises";
import { join } from "node:path";

/**
 * Bytes allocated to the files under dir, the way dockerd's directory.Size counts them for
 * `system df`: directories themselves are not counted, a hard-linked inode once, other
 * filesystems mounted below are not entered. -1 when dir cannot be read.
 */
export async function diskUsage(dir: string): Promise<number> {
  let root;
  try { root = await lstat(dir, { bigint: true }); } catch { return -1; }
  const seen = new Set<bigint>();
  let total = 0n;
  const walk = async (path: string): Promise<void> => {
    let d;
    try { d = await opendir(path); } catch { return; }
    for await (const entry of d) {
      const p = join(path, entry.name);
      let st;
      try { st = await lstat(p, { bigint: true }); } catch { continue; }
      if (st.dev !== root.dev) continue;
      if (st.isDirectory()) { await walk(p); continue; }
      if (seen.has(st.ino)) continue;
      seen.add(st.ino);
      total += st.blocks * 512n;
    }
  };
  await walk(dir);
  return Number(total);
}
