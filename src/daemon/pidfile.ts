import { open, readFile, unlink } from "node:fs/promises";
import { conflict } from "../errdefs/index.js";

/** Whether pid is a live berthd (Node has no flock, so the process's command line is the lock's witness). */
async function isLiveBerthd(pid: number): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return /berthd|daemon\/main\.js/.test(cmdline);
}

/**
 * Claim <path> for this process. A pidfile naming a live berthd refuses the start; a stale one is replaced.
 * Returns a release function that removes the file only while it still names this process.
 */
export async function acquirePidfile(path: string, dataRoot: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fh = await open(path, "wx", 0o644);
      try {
        await fh.writeFile(`${process.pid}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return async () => {
        const cur = await readFile(path, "utf8").catch(() => "");
        if (Number.parseInt(cur, 10) === process.pid) await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const pid = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
    if (await isLiveBerthd(pid)) throw conflict(`berthd is already running on ${dataRoot} (pid ${pid})`);
    await unlink(path).catch(() => {});
  }
  throw conflict(`could not claim ${path}: another berthd keeps recreating it`);
}
