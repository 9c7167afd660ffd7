import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import tar from "tar-stream";
import { invalidArgument, isKind } from "../../errdefs/index.js";
import { decompressStream } from "../../images/layer/index.js";
import { runPipeline } from "../../images/layer/apply-layer.js";
import { TreeWriter, type PaxHeaders } from "../../images/layer/tree-writer.js";
import { cleanEntryName } from "../../images/layer/entry-name.js";
import { IgnoreMatcher } from "./ignore.js";
import type { StatCache } from "./stat-cache.js";

export type ContextEntryType = "file" | "directory" | "symlink" | "link";

/** One context path with what identifies it for the cache: metadata and content, never mtime. */
export interface ContextEntry {
  type: ContextEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname: string;
  /** sha256 hex of (type, mode, uid, gid, size, linkname, content sha256). */
  hash: string;
}

export function entryHash(e: Omit<ContextEntry, "hash">, contentHash: string): string {
  return createHash("sha256")
    .update(`${e.type}\0${e.mode & 0o7777}\0${e.uid}\0${e.gid}\0${e.size}\0${e.linkname}\0${contentHash}`)
    .digest("hex");
}

/**
 * A build context unpacked into a private directory, with a hash for every path. Paths are
 * relative, "/"-separated, without "./" or a trailing "/".
 */
export class BuildContext {
  constructor(readonly dir: string, readonly entries: Map<string, ContextEntry>, readonly stats: { files: number; bytes: number; hashed: number }) {}

  async readText(rel: string): Promise<string | null> {
    const e = this.entries.get(rel);
    if (!e || e.type === "directory") return null;
    try {
      return await readFile(join(this.dir, rel), "utf8");
    } catch {
      return null;
    }
  }

  /** Drop what .dockerignore excludes from the directory and the entries (Dockerfile and .dockerignore included, like Docker). */
  async applyIgnore(matcher: IgnoreMatcher): Promise<void> {
    const gone: string[] = [];
    for (const rel of [...this.entries.keys()].sort()) {
      if (gone.some((g) => rel.startsWith(g + "/"))) {
        this.entries.delete(rel);
        continue;
      }
      if (!matcher.matches(rel)) continue;
      const e = this.entries.get(rel)!;
      if (e.type === "directory" && !matcher.canSkipDir(rel)) continue;
      await rm(join(this.dir, rel), { recursive: true, force: true });
      this.entries.delete(rel);
      if (e.type === "directory") gone.push(rel);
    }
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Receive a context tar (plain or compressed) into a new directory under tmpRoot, hashing every file
 * in flight (the stat cache spares the hashing of files whose size and mtime are unchanged).
 * A body that is not a tar is invalid-argument; on any failure the directory is removed.
 */
export async function receiveContext(
  src: Readable,
  opts: { tmpRoot: string; statCache?: StatCache; signal?: AbortSignal },
): Promise<BuildContext> {
  const dir = await mkdtemp(join(opts.tmpRoot, "ctx-"));
  const entries = new Map<string, ContextEntry>();
  const stats = { files: 0, bytes: 0, hashed: 0 };
  const cache = opts.statCache;
  try {
    const writer = new TreeWriter({ mode: "layer", root: dir, allowDevices: false, ...(opts.signal ? { signal: opts.signal } : {}) });
    const ex = tar.extract();
    ex.on("entry", (hdr, stream, next) => {
      const done = (async () => {
        const rel = cleanEntryName(hdr.name);
        if (rel === "") { stream.resume(); return; }
        if (rel.split("/").some((c) => c.startsWith(".wh."))) {
          throw invalidArgument(`invalid file name in build context: ${JSON.stringify(hdr.name)}`);
        }
        const type = (hdr.type === "contiguous-file" ? "file" : hdr.type ?? "file") as string;
        if (type !== "file" && type !== "directory" && type !== "symlink" && type !== "link") {
          stream.resume();
          return; // devices and fifos have no place in a build context
        }
        const base = {
          type: type as ContextEntryType, mode: hdr.mode ?? 0o644, uid: hdr.uid ?? 0, gid: hdr.gid ?? 0,
          size: type === "file" ? hdr.size ?? 0 : 0, linkname: hdr.linkname ?? "",
        };
        let content = "";
        if (type === "file") {
          stats.files++;
          stats.bytes += base.size;
          const mtime = hdr.mtime ? hdr.mtime.getTime() : 0;
          const known = cache?.get(rel, base.size, mtime);
          if (known) {
            content = known;
            await writer.entry(hdr as PaxHeaders, stream as unknown as AsyncIterable<Buffer>);
          } else {
            const h = createHash("sha256");
            await writer.entry(hdr as PaxHeaders, tap(stream as unknown as AsyncIterable<Buffer>, h));
            content = h.digest("hex");
            stats.hashed++;
            cache?.set(rel, base.size, mtime, content);
          }
        } else {
          await writer.entry(hdr as PaxHeaders, stream as unknown as AsyncIterable<Buffer>);
        }
        entries.set(rel, { ...base, hash: entryHash(base, content) });
      })();
      done.then(() => next(), (err: Error) => {
        stream.resume();
        next(err);
      });
    });
    try {
      await runPipeline(decompressStream(src), null, ex, opts.signal);
    } catch (err) {
      if (isKind(err, "invalid-argument") && /invalid tar|header/i.test((err as Error).message)) {
        throw invalidArgument(`the build context must be a tar archive (plain or compressed): ${(err as Error).message}`, { cause: err });
      }
      throw err;
    }
    await writer.finish();
    // Parent directories implied by file names: record them so directory copies see them.
    for (const rel of [...entries.keys()]) {
      for (let i = rel.indexOf("/"); i > 0; i = rel.indexOf("/", i + 1)) {
        const d = rel.slice(0, i);
        if (!entries.has(d)) {
          const base = { type: "directory" as const, mode: 0o755, uid: 0, gid: 0, size: 0, linkname: "" };
          entries.set(d, { ...base, hash: entryHash(base, "") });
        }
      }
    }
    return new BuildContext(dir, entries, stats);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function* tap(stream: AsyncIterable<Buffer>, h: ReturnType<typeof createHash>): AsyncIterable<Buffer> {
  for await (const chunk of stream) {
    h.update(chunk);
    yield chunk;
  }
}
