import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { once } from "node:events";
import { join } from "node:path";
import { Transform, type Readable } from "node:stream";
import tar from "tar-stream";
import { cancelled, EngineError, invalidArgument, isKind } from "../../errdefs/index.js";
import { finished, pipeline } from "node:stream/promises";
import { decompressStream } from "../../images/layer/index.js";
import { runPipeline } from "../../images/layer/apply-layer.js";
import { TreeWriter, type PaxHeaders } from "../../images/layer/tree-writer.js";
import { cleanEntryName } from "../../images/layer/entry-name.js";
import { IgnoreMatcher } from "../../spec/dockerignore.js";
import type { StatCache } from "./stat-cache.js";
import { completeTar } from "./complete-tar.js";
import { coalesceChunks } from "./coalesce-chunks.js";

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
 * A build context: every path with its hash, the raw tar spooled to one file, and a directory the
 * files are unpacked into when a step first needs them, and only those it needs (a fully cached build
 * never pays for creating files, and a rebuilt late COPY only for its own sources). Paths are
 * relative, "/"-separated, without "./" or a trailing "/".
 */
export class BuildContext {
  /** Non-directory entries already unpacked. */
  readonly #written = new Set<string>();
  /** Directories unpacked (with their metadata) by some pass. */
  readonly #dirDone = new Set<string>();
  #all = false;
  #started = false;
  #chain: Promise<void> = Promise.resolve();
  readonly #disposing = new AbortController();

  constructor(
    readonly dir: string,
    private readonly spool: string,
    readonly entries: Map<string, ContextEntry>,
    private readonly texts: Map<string, Buffer>,
    readonly stats: { files: number; bytes: number; hashed: number },
  ) {}

  /** Content of a small file kept while receiving (the Dockerfile, .dockerignore), or null. */
  readText(rel: string): string | null {
    const e = this.entries.get(rel);
    const t = this.texts.get(rel);
    if (!e || e.type !== "file" || !t) return null;
    return t.toString("utf8");
  }

  /** Drop what .dockerignore excludes (Dockerfile and .dockerignore included, like Docker). Before materialize(). */
  applyIgnore(matcher: IgnoreMatcher): void {
    if (this.#started) throw new Error("applyIgnore after the context was unpacked");
    const gone: string[] = [];
    for (const rel of [...this.entries.keys()].sort()) {
      if (gone.some((g) => rel.startsWith(g + "/"))) {
        this.entries.delete(rel);
        continue;
      }
      if (!matcher.matches(rel)) continue;
      const e = this.entries.get(rel)!;
      if (e.type === "directory" && !matcher.canSkipDir(rel)) continue;
      this.entries.delete(rel);
      if (e.type === "directory") gone.push(rel);
    }
  }

  /**
   * Unpack into dir the (not ignored) entries at and below `paths` ("" = everything; all when absent),
   * with their parent directories and the targets of hard links among them, unless already there.
   * Passes run one at a time; directories are set again by each pass that touches them, so their
   * times stay the context's.
   */
  materialize(opts: { paths?: readonly string[]; signal?: AbortSignal } = {}): Promise<void> {
    this.#started = true;
    const pass = async () => {
      if (this.#all) return;
      const want = opts.paths && !opts.paths.includes("") ? this.#closure(opts.paths) : null;
      const signal = opts.signal ? AbortSignal.any([opts.signal, this.#disposing.signal]) : this.#disposing.signal;
      if (want && [...want].every((r) => (this.entries.get(r)!.type === "directory" ? this.#dirDone : this.#written).has(r))) return;
      const written: string[] = [];
      const dirs: string[] = [];
      const writer = new TreeWriter({ mode: "layer", root: this.dir, allowDevices: false, signal });
      const ex = tar.extract();
      ex.on("entry", (hdr, stream, next) => {
        const rel = cleanEntryName(hdr.name);
        const e = rel === "" ? undefined : this.entries.get(rel);
        const take = e !== undefined && (want === null || want.has(rel)) && (e.type === "directory" || !this.#written.has(rel));
        const done = take
          ? writer.entry(hdr as PaxHeaders, stream as unknown as AsyncIterable<Buffer>).then(() => { (e.type === "directory" ? dirs : written).push(rel); })
          : Promise.resolve(stream.resume()).then(() => undefined);
        done.then(() => next(), (err: Error) => {
          stream.resume();
          next(err);
        });
      });
      await runPipeline(createReadStream(this.spool, { highWaterMark: 1 << 20 }), null, ex, signal);
      await writer.finish();
      for (const r of written) this.#written.add(r);
      for (const r of dirs) this.#dirDone.add(r);
      if (want === null) this.#all = true;
    };
    const p = this.#chain.catch(() => {}).then(pass);
    this.#chain = p;
    return p;
  }

  /**
   * The entries `paths` need: each path, everything below it, its parent directories, and hard-link
   * targets (with theirs). Null (everything) when a path is not an entry or a symbolic link is among
   * them: whatever the host resolves through it is then there, as before.
   */
  #closure(paths: readonly string[]): Set<string> | null {
    const want = new Set<string>();
    const addWithParents = (rel: string) => {
      for (let i = rel.indexOf("/"); i > 0; i = rel.indexOf("/", i + 1)) want.add(rel.slice(0, i));
      want.add(rel);
    };
    const prefixes = paths.map((p) => `${p}/`);
    for (const p of paths) {
      if (!this.entries.has(p)) return null;
      addWithParents(p);
    }
    for (const k of this.entries.keys()) if (prefixes.some((x) => k.startsWith(x))) want.add(k);
    for (const k of [...want]) {
      const e = this.entries.get(k)!;
      if (e.type === "symlink") return null;
      if (e.type === "link") {
        const target = cleanEntryName(e.linkname);
        if (this.entries.has(target)) addWithParents(target);
      }
    }
    for (const k of [...want]) if (!this.entries.has(k)) want.delete(k);
    return want;
  }

  /** Remove the unpacked files and the spool; an unpacking still under way (started ahead of need) is stopped first. */
  async dispose(): Promise<void> {
    this.#disposing.abort();
    await this.#chain.catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
    await rm(this.spool, { force: true });
  }
}

const KEEP_LIMIT = 4 << 20;

/**
 * Receive a context tar (plain or compressed) into a new directory under tmpRoot, hashing every file
 * in flight (the stat cache spares the hashing of files whose size and mtime are unchanged).
 * A body that is not a tar is invalid-argument; on any failure the directory is removed.
 */
export async function receiveContext(
  src: Readable,
  opts: { tmpRoot: string; statCache?: StatCache; signal?: AbortSignal; keep?: readonly string[] },
): Promise<BuildContext> {
  const dir = await mkdtemp(join(opts.tmpRoot, "ctx-"));
  const spool = `${dir}.tar`;
  const keep = new Set(opts.keep ?? []);
  const texts = new Map<string, Buffer>();
  const entries = new Map<string, ContextEntry>();
  const stats = { files: 0, bytes: 0, hashed: 0 };
  const cache = opts.statCache;
  // The spool is written beside the parsing, never awaited chunk by chunk: it only holds the parser
  // back when more than its buffer is unwritten.
  const spoolOut = createWriteStream(spool, { flags: "wx", mode: 0o600, highWaterMark: 4 << 20 });
  try {
    await once(spoolOut, "open");
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
          const kept: Buffer[] | null = keep.has(rel) && base.size <= KEEP_LIMIT ? [] : null;
          if (known && !kept) {
            content = known;
            await drain(stream as unknown as AsyncIterable<Buffer>);
          } else {
            const h = createHash("sha256");
            for await (const chunk of stream as unknown as AsyncIterable<Buffer>) {
              h.update(chunk);
              kept?.push(chunk);
            }
            if (kept) texts.set(rel, Buffer.concat(kept));
            content = h.digest("hex");
            stats.hashed++;
            cache?.set(rel, base.size, mtime, content);
          }
        } else {
          await drain(stream as unknown as AsyncIterable<Buffer>);
        }
        entries.set(rel, { ...base, hash: entryHash(base, content) });
      })();
      done.then(() => next(), (err: Error) => {
        stream.resume();
        next(err);
      });
    });
    try {
      const toSpool = new Transform({
        highWaterMark: 1 << 20,
        transform(chunk: Buffer, _enc, cb) {
          if (spoolOut.write(chunk)) cb(null, chunk);
          else spoolOut.once("drain", () => cb(null, chunk));
        },
        flush(cb) {
          spoolOut.end();
          finished(spoolOut).then(() => cb(), cb);
        },
      });
      spoolOut.on("error", (err) => toSpool.destroy(err));
      // A failure on either side reaches the other: src is destroyed with the pipeline below, and an error of src
      // ends the pipeline below through `body`.
      const body = coalesceChunks();
      pipeline(src, body).catch(() => {});
      await pipeline(decompressStream(body), completeTar(), toSpool, ex, opts.signal ? { signal: opts.signal } : {}).catch((err: unknown) => {
        if ((err as Error)?.name === "AbortError" || opts.signal?.aborted) throw cancelled("build cancelled", { cause: err });
        if (err instanceof Error && !(err instanceof EngineError) && !("code" in err)) throw invalidArgument(`invalid tar stream: ${err.message}`, { cause: err });
        throw err;
      });
    } catch (err) {
      if (isKind(err, "invalid-argument") && /invalid tar|header/i.test((err as Error).message)) {
        throw invalidArgument(`the build context must be a tar archive (plain or compressed): ${(err as Error).message}`, { cause: err });
      }
      throw err;
    }
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
    return new BuildContext(dir, spool, entries, texts, stats);
  } catch (err) {
    if (!spoolOut.closed) {
      spoolOut.destroy();
      await once(spoolOut, "close").catch(() => {});
    }
    await rm(dir, { recursive: true, force: true });
    await rm(spool, { force: true });
    throw err;
  }
}

async function drain(stream: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of stream) { /* discard */ }
}
