import { createReadStream } from "node:fs";
import { lstat, readdir, readlink, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";

/**
 * A tar of a host path, streamed: the root entry is named `rootName` ("" puts the directory's
 * contents at the top). followLink resolves the top-level path only (cp -L).
 */
export function packPath(path: string, rootName: string, opts: { followLink?: boolean } = {}): tar.Pack {
  const pack = tar.pack();
  const header = (name: string, st: Stats, extra: Partial<tar.Header>): Partial<tar.Header> & { name: string } => ({
    name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, ...extra,
  });
  const add = async (abs: string, name: string, top: boolean): Promise<void> => {
    const st = top && opts.followLink ? await stat(abs) : await lstat(abs);
    if (st.isDirectory()) {
      if (name) await new Promise<void>((res, rej) => pack.entry(header(`${name}/`, st, { type: "directory" }), (e) => (e ? rej(e) : res())));
      for (const child of (await readdir(abs)).sort()) await add(join(abs, child), name ? `${name}/${child}` : child, false);
    } else if (st.isSymbolicLink()) {
      const target = await readlink(abs);
      await new Promise<void>((res, rej) => pack.entry(header(name, st, { type: "symlink", linkname: target }), (e) => (e ? rej(e) : res())));
    } else if (st.isFile()) {
      const entry = pack.entry(header(name, st, { type: "file", size: st.size }));
      await pipeline(createReadStream(abs), entry);
    }
    // sockets, fifos and devices are not copied
  };
  add(path, rootName, true).then(() => pack.finalize(), (err: Error) => pack.destroy(err));
  return pack;
}
