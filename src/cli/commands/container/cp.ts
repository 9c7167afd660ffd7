import { lstat, stat } from "node:fs/promises";
import { basename, dirname, posix } from "node:path";
import { PassThrough, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Command } from "../../command.js";
import { bool } from "../../flags.js";
import { invalidArgument, isNotFound, systemError } from "../../../errdefs/index.js";
import type { BerthClient } from "../../../client/client.js";
import type { PathStat } from "../../../client/types.js";
import { extractToDir } from "../../archive/extract-to-dir.js";
import { packPath } from "../../archive/pack-path.js";
import { humanSize } from "../../output/units.js";

const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const isGoDir = (mode: number) => Math.floor(mode / GO_DIR) % 2 === 1;
const isGoSymlink = (mode: number) => Math.floor(mode / GO_SYMLINK) % 2 === 1;

/** "container:path" -> [container, path]; a local path (absolute, ./, or without a colon) -> [undefined, path]. */
export function splitCpArg(arg: string): [string | undefined, string] {
  if (arg.startsWith("/") || arg.startsWith(".")) return [undefined, arg];
  const i = arg.indexOf(":");
  if (i <= 0) return [undefined, arg];
  return [arg.slice(0, i), arg.slice(i + 1)];
}

/** Whether a path asks for a directory's contents rather than the directory ("dir/."). */
const wantsContents = (p: string) => p.endsWith("/.") || p === ".";

function counter(): Transform & { bytes: number } {
  const t = new Transform({ transform(chunk: Buffer, _e, cb) { t.bytes += chunk.length; cb(null, chunk); } }) as Transform & { bytes: number };
  t.bytes = 0;
  return t;
}

/** Stat of a path in the container, undefined when the path does not exist (the container itself must). */
async function statInContainer(client: BerthClient, id: string, path: string): Promise<PathStat | undefined> {
  // HEAD answers carry no message: ask for the container first so "No such container" reads right
  await client.containers.inspect(id);
  try {
    return await client.containers.statPath(id, path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function copyFromContainer(client: BerthClient, id: string, srcPath: string, dest: string, opts: { follow: boolean; archive: boolean; out: NodeJS.WritableStream }): Promise<number> {
  let path = srcPath;
  if (opts.follow) {
    const st = await client.containers.statPath(id, path);
    if (st && isGoSymlink(st.mode) && st.linkTarget) path = st.linkTarget;
  }
  const { stream, stat: st } = await client.containers.getArchive(id, path);
  const count = counter();
  if (dest === "-") {
    await pipeline(stream, count, opts.out as NodeJS.WritableStream, { end: false });
    return count.bytes;
  }
  const srcName = st?.name ?? posix.basename(path);
  const srcIsDir = st ? isGoDir(st.mode) : false;
  const destStat = await stat(dest).catch(() => undefined);
  let root: string;
  let rebase: { from: string; to: string } | undefined;
  if (destStat?.isDirectory()) {
    root = dest;
    if (srcIsDir && wantsContents(srcPath)) rebase = { from: srcName, to: "" };
  } else {
    if (dest.endsWith("/")) throw invalidArgument(`destination directory "${dest}" must exist`);
    if (destStat && srcIsDir) throw invalidArgument(`cannot copy directory to file "${dest}"`);
    root = dirname(dest);
    const parent = await stat(root).catch(() => undefined);
    if (!parent?.isDirectory()) throw invalidArgument(`destination directory "${root}" must exist`);
    rebase = { from: srcName, to: basename(dest) };
  }
  const written = await extractToDir(stream.pipe(count), root, { rebase, keepOwner: opts.archive });
  if (written === 0) throw systemError(`the daemon sent no content for ${id}:${srcPath}`);
  return count.bytes;
}

async function copyToContainer(client: BerthClient, src: string, id: string, destPath: string, opts: { follow: boolean; archive: boolean; stdin: NodeJS.ReadStream }): Promise<number> {
  const count = counter();
  const destStat = await statInContainer(client, id, destPath);
  if (src === "-") {
    if (!destStat || !isGoDir(destStat.mode)) throw invalidArgument(`destination "${id}:${destPath}" must be a directory`);
    await client.containers.putArchive(id, destPath, opts.stdin.pipe(count), { copyUIDGID: opts.archive });
    return count.bytes;
  }
  const local = opts.follow ? await stat(src) : await lstat(src);
  const contents = local.isDirectory() && wantsContents(src);
  let target: string;
  let rootName: string;
  if (destStat && isGoDir(destStat.mode)) {
    target = destPath;
    rootName = contents ? "" : basename(src.replace(/\/+\.?$/, "")) || basename(src);
  } else {
    if (destPath.endsWith("/")) throw invalidArgument(`destination directory "${id}:${destPath}" must exist`);
    if (destStat && local.isDirectory()) throw invalidArgument(`cannot copy directory to file "${id}:${destPath}"`);
    target = posix.dirname(destPath);
    rootName = posix.basename(destPath);
  }
  const tar = packPath(src.replace(/\/\.$/, ""), rootName, { followLink: opts.follow });
  const body = new PassThrough();
  tar.once("error", (err) => body.destroy(err));
  tar.pipe(count).pipe(body);
  await client.containers.putArchive(id, target, body, { copyUIDGID: opts.archive });
  return count.bytes;
}

export const cp: Command = {
  name: "container cp",
  summary: "Copy files/folders between a container and the local filesystem",
  usage: "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
  minArgs: 2,
  maxArgs: 2,
  flags: {
    archive: bool("a", "Archive mode (copy all uid/gid information)"),
    "follow-link": bool("L", "Always follow symbol link in SRC_PATH"),
    quiet: bool("q", "Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached"),
  },
  async run({ client, args, flags, out, stdin }) {
    const [srcContainer, srcPath] = splitCpArg(args[0]!);
    const [destContainer, destPath] = splitCpArg(args[1]!);
    if (srcContainer && destContainer) throw invalidArgument("copying between containers is not supported");
    if (!srcContainer && !destContainer) throw invalidArgument("must specify at least one container source");
    if ((srcContainer && !srcPath) || (destContainer && !destPath)) throw invalidArgument("filesystem path cannot be empty");
    const opts = { follow: flags.bool("follow-link"), archive: flags.bool("archive") };
    let bytes: number;
    let to: string;
    if (srcContainer) {
      bytes = await copyFromContainer(client, srcContainer, srcPath, destPath, { ...opts, out: out.stdout as NodeJS.WritableStream });
      to = destPath;
    } else {
      bytes = await copyToContainer(client, srcPath, destContainer!, destPath, { ...opts, stdin });
      to = `${destContainer}:${destPath}`;
    }
    const stderr = out.stderr as NodeJS.WriteStream;
    if (!flags.bool("quiet") && stderr.isTTY && destPath !== "-") out.errorLine(`Successfully copied ${humanSize(bytes)} to ${to}`);
  },
};
