import { createWriteStream } from "node:fs";
import { chown, lchown, link, lstat, mkdir, rm, symlink, utimes } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { invalidArgument } from "../../errdefs/index.js";
import { rebaseName } from "./rebase.js";

export interface ExtractOptions {
  /** First-component rename applied to every entry (docker cp's rebase), or undefined to keep names. */
  rebase?: { from: string; to: string };
  /** Keep uid/gid from the archive (cp -a). */
  keepOwner?: boolean;
  warn?: (msg: string) => void;
}

/** Refuses paths that leave root, and parents that are symlinks (they could point anywhere). */
async function safeTarget(root: string, name: string): Promise<string> {
  const target = resolve(root, name);
  const rel = relative(root, target);
  if (rel.startsWith("..") || rel.split(sep).includes("..")) throw invalidArgument(`refusing to extract "${name}" outside the destination`);
  let cur = root;
  const parts = rel.split(sep).filter(Boolean);
  for (const part of parts.slice(0, -1)) {
    cur = join(cur, part);
    const st = await lstat(cur).catch(() => undefined);
    if (st?.isSymbolicLink()) throw invalidArgument(`refusing to extract "${name}" through the symlink ${cur}`);
  }
  return target;
}

async function removeExisting(path: string, keepDir: boolean): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return;
  if (st.isDirectory() && keepDir) return;
  await rm(path, { recursive: true, force: true });
}

/** Extracts a tar stream under root, entry by entry, without buffering file contents. Returns how many entries it wrote. */
export async function extractToDir(src: Readable, root: string, opts: ExtractOptions = {}): Promise<number> {
  let written = 0;
  const ex = tar.extract();
  const dirTimes: [string, Date][] = [];
  const done = new Promise<void>((resolvePromise, reject) => {
    ex.on("entry", (header, stream, next) => {
      (async () => {
        let name: string | null = header.name;
        if (opts.rebase) name = rebaseName(header.name, opts.rebase.from, opts.rebase.to);
        if (name === null) { stream.resume(); return; }
        written++;
        const target = name === "" ? root : await safeTarget(root, name);
        const mode = (header.mode ?? 0o644) & 0o7777;
        switch (header.type) {
          case "directory":
            await removeExisting(target, true);
            await mkdir(target, { recursive: true, mode });
            stream.resume();
            if (header.mtime) dirTimes.push([target, header.mtime]);
            break;
          case "file": case "contiguous-file": case undefined: case null:
            await removeExisting(target, false);
            await pipeline(stream, createWriteStream(target, { mode }));
            if (header.mtime) await utimes(target, header.mtime, header.mtime);
            break;
          case "symlink":
            await removeExisting(target, false);
            await symlink(header.linkname ?? "", target);
            stream.resume();
            break;
          case "link": {
            let to: string | null = header.linkname ?? "";
            if (opts.rebase) to = rebaseName(to, opts.rebase.from, opts.rebase.to);
            if (to === null) throw invalidArgument(`hard link "${header.name}" points outside the copied tree`);
            await removeExisting(target, false);
            await link(await safeTarget(root, to), target);
            stream.resume();
            break;
          }
          default:
            opts.warn?.(`skipping ${header.type} ${header.name}`);
            stream.resume();
            return;
        }
        if (opts.keepOwner && header.uid !== undefined && header.gid !== undefined) {
          await (header.type === "symlink" ? lchown : chown)(target, header.uid, header.gid);
        }
      })().then(() => next(), (err: unknown) => { stream.resume(); ex.destroy(err as Error); });
    });
    ex.once("finish", resolvePromise);
    ex.once("error", reject);
  });
  src.once("error", (err) => ex.destroy(err));
  src.pipe(ex);
  await done;
  for (const [dir, t] of dirTimes.reverse()) await utimes(dir, t, t).catch(() => {});
  return written;
}
