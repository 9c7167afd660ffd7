import { createReadStream } from "node:fs";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar, { type Header } from "tar-stream";
import { cancelled } from "../../errdefs/index.js";
import { installBinaryPax, PAX_XATTR_PREFIX, xattrString } from "./binary-pax.js";
import { readXattrsTree, type Xattrs } from "./xattrs.js";

installBinaryPax();

type Stats = import("node:fs").Stats;

/** Files up to this size are read in one call rather than streamed. */
const SMALL_FILE = 256 * 1024;
type Entry = Omit<Partial<Header>, "pax"> & { name: string; pax?: Record<string, string> };

export interface PackOptions {
  /** "diff": overlay whiteouts and opaque dirs become OCI whiteout files (packDiff). */
  diff: boolean;
  /** Name of the top entry; "" packs the children of a directory without a top entry. */
  topName: string;
  /** Name used when the path is not a directory and topName is "". */
  topNameForFile?: string;
  signal?: AbortSignal;
}

const major = (rdev: number) => Math.floor(rdev / 256) & 0xfff | (Math.floor(rdev / 2 ** 32) & ~0xfff);
const minor = (rdev: number) => (rdev & 0xff) | (Math.floor(rdev / 4096) & ~0xff);

/** Walk a tree depth-first in byte order of names and write it as a tar; returns a Node Readable. */
export function packTreeStream(hostPath: string, opts: PackOptions): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const pack = tar.pack();
  pipeline(pack, out).catch((err) => out.destroy(err));
  run(pack, hostPath, opts).then(() => pack.finalize(), (err: Error) => {
    pack.destroy(err);
    out.destroy(err);
  });
  return out;
}

async function run(pack: tar.Pack, hostPath: string, opts: PackOptions): Promise<void> {
  const xattrs = await readXattrsTree(hostPath);
  const links = new Map<string, string>();
  const put = (h: Entry, body?: Readable | Buffer) => new Promise<void>((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    if (!body || Buffer.isBuffer(body)) {
      pack.entry(h as Header, body ?? Buffer.alloc(0), done);
      return;
    }
    const sink = pack.entry(h as Header, done);
    pipeline(body, sink as unknown as NodeJS.WritableStream).catch(reject);
  });

  const visit = async (host: string, name: string, st: Stats): Promise<void> => {
    if (opts.signal?.aborted) throw cancelled();
    const attrs = xattrs.get(host);
    const base: Entry = {
      name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime,
    };
    const pax = paxOf(attrs);
    if (pax) base.pax = pax;
    const slash = name.lastIndexOf("/");
    const dirPart = slash < 0 ? "" : name.slice(0, slash + 1);
    const leaf = name.slice(slash + 1);
    if (opts.diff && st.isCharacterDevice() && st.rdev === 0) {
      await put({ name: `${dirPart}.wh.${leaf}`, type: "file", size: 0, mode: 0, uid: st.uid, gid: st.gid, mtime: st.mtime });
      return;
    }
    if (st.isDirectory()) {
      if (name) await put({ ...base, name: `${name}/`, type: "directory" });
      if (opts.diff && attrs?.get("trusted.overlay.opaque")?.toString() === "y") {
        await put({ name: `${name ? `${name}/` : ""}.wh..wh..opq`, type: "file", size: 0, mode: 0, uid: st.uid, gid: st.gid, mtime: st.mtime });
      }
      const names = (await readdir(host)).sort();
      for (const n of names) {
        let cst: Stats;
        try {
          cst = await lstat(join(host, n));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
          throw err;
        }
        await visit(join(host, n), name ? `${name}/${n}` : n, cst);
      }
      return;
    }
    if (st.nlink > 1 && !st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first !== undefined) {
        await put({ ...base, type: "link", linkname: first, size: 0 });
        return;
      }
      links.set(key, name);
    }
    if (st.isFile() && st.size <= SMALL_FILE) {
      // A stream per small file costs more than its bytes; one read keeps packing many files fast.
      const data = await readFile(host);
      if (data.length !== st.size) throw new Error(`${host} changed size while being archived`);
      await put({ ...base, type: "file", size: st.size }, data);
    } else if (st.isFile()) {
      await put({ ...base, type: "file", size: st.size }, createReadStream(host, { highWaterMark: 1 << 20 }));
    } else if (st.isSymbolicLink()) {
      await put({ ...base, type: "symlink", linkname: await readlink(host) });
    } else if (st.isFIFO()) {
      await put({ ...base, type: "fifo" });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      await put({ ...base, type: st.isCharacterDevice() ? "character-device" : "block-device", devmajor: major(st.rdev), devminor: minor(st.rdev) });
    }
    // sockets are not archived (as Docker)
  };

  const st = await lstat(hostPath);
  const top = !st.isDirectory() && !opts.topName ? opts.topNameForFile ?? "" : opts.topName;
  await visit(hostPath, top, st);
}

function paxOf(attrs: Xattrs | undefined): Record<string, string> | undefined {
  if (!attrs) return undefined;
  let pax: Record<string, string> | undefined;
  for (const [k, v] of attrs) {
    if (k.startsWith("trusted.overlay.")) continue;
    pax ??= {};
    pax[PAX_XATTR_PREFIX + k] = xattrString(v);
  }
  return pax;
}
