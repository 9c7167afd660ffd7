import { createReadStream } from "node:fs";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import type { Stats } from "node:fs";
import { join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { IgnoreMatcher } from "../../../spec/dockerignore.js";

export interface ContextExtra {
  /** Name inside the context ("Dockerfile" or ".dockerfile.<hex>"). */
  name: string;
  data: Buffer;
}

/**
 * The build context of a directory as a tar stream, the way the docker CLI sends it: paths the
 * .dockerignore excludes are left out (the Dockerfile and .dockerignore always go, the daemon drops them
 * from COPY sources), owners are 0:0, files stream from disk one at a time. `extra` adds a Dockerfile
 * that lives outside the context or came from stdin.
 */
export async function packContext(dir: string, opts: { dockerfile?: string; extra?: ContextExtra } = {}): Promise<Readable> {
  const ignoreText = await readFile(join(dir, ".dockerignore"), "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return "";
    throw err;
  });
  const matcher = IgnoreMatcher.fromText(ignoreText);
  const keep = new Set([".dockerignore", opts.dockerfile ?? "Dockerfile"]);
  const pack = tar.pack();
  const header = (name: string, st: Stats, extra: Partial<tar.Header>): Partial<tar.Header> & { name: string } => ({
    name, mode: st.mode & 0o7777, uid: 0, gid: 0, mtime: st.mtime, ...extra,
  });
  const entry = (h: Partial<tar.Header> & { name: string }, data?: Buffer) =>
    new Promise<void>((res, rej) => {
      const cb = (e?: Error | null) => (e ? rej(e) : res());
      if (data) pack.entry(h, data, cb);
      else pack.entry(h, cb);
    });
  const walk = async (rel: string): Promise<void> => {
    for (const child of (await readdir(join(dir, rel))).sort()) {
      const r = rel ? `${rel}/${child}` : child;
      const abs = join(dir, r);
      const st = await lstat(abs);
      if (!keep.has(r) && matcher.matches(r)) {
        if (!st.isDirectory() || matcher.canSkipDir(r)) continue;
        await walk(r); // excluded itself, but an exception may re-include something below
        continue;
      }
      if (st.isDirectory()) {
        await entry(header(`${r}/`, st, { type: "directory" }));
        await walk(r);
      } else if (st.isSymbolicLink()) {
        await entry(header(r, st, { type: "symlink", linkname: await readlink(abs) }));
      } else if (st.isFile()) {
        const e = pack.entry(header(r, st, { type: "file", size: st.size }));
        await pipeline(createReadStream(abs), e);
      }
      // sockets, fifos and devices have no place in a context
    }
  };
  (async () => {
    await walk("");
    if (opts.extra) await entry({ name: opts.extra.name, mode: 0o644, uid: 0, gid: 0, mtime: new Date(), type: "file" }, opts.extra.data);
  })().then(() => pack.finalize(), (err: Error) => pack.destroy(err));
  return asReadable(pack);
}

/** A context holding only a Dockerfile (`docker build -` with a Dockerfile on stdin). */
export function dockerfileOnlyContext(data: Buffer): Readable {
  const pack = tar.pack();
  pack.entry({ name: "Dockerfile", mode: 0o644, uid: 0, gid: 0, mtime: new Date() }, data);
  pack.finalize();
  return asReadable(pack);
}

/** tar-stream's pack is a streamx stream; the client pipes Node streams. */
function asReadable(pack: tar.Pack): Readable {
  const body = new PassThrough();
  pack.once("error", (err) => body.destroy(err));
  pack.pipe(body);
  return body;
}
