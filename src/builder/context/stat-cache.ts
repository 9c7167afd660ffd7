import { readFile } from "node:fs/promises";
import { atomicWriteJson } from "../../util/index.js";

/** A recorded content hash, valid while the file's size and mtime (as sent in the context tar) are unchanged. */
interface StatEntry { size: number; mtime: number; hash: string }

const MAX_ENTRIES = 200_000;
// Like git's racy-index rule: a file modified within this window of hashing may change again within the
// same mtime tick, so its hash is not trusted later.
const RACY_MS = 2_000;

/**
 * Path -> (size, mtime) -> content sha256, persisted so that unchanged context files are not hashed again.
 * Contexts arrive as tar streams into fresh directories, so inode and ctime carry no identity here: the
 * tar header's size and mtime (with the racy-file rule) are the stat data that can be trusted.
 */
export class StatCache {
  readonly #entries: Map<string, StatEntry>;
  readonly #seen = new Set<string>();
  #dirty = false;
  hits = 0;
  misses = 0;

  private constructor(private readonly path: string, entries: Map<string, StatEntry>) {
    this.#entries = entries;
  }

  static async load(path: string): Promise<StatCache> {
    let entries = new Map<string, StatEntry>();
    try {
      const raw = JSON.parse(await readFile(path, "utf8")) as { v: number; entries: [string, StatEntry][] };
      if (raw.v === 1 && Array.isArray(raw.entries)) entries = new Map(raw.entries);
    } catch {
      // missing or unreadable: start empty, it is only a cache
    }
    return new StatCache(path, entries);
  }

  get(rel: string, size: number, mtimeMs: number): string | undefined {
    const e = this.#entries.get(rel);
    if (e && e.size === size && e.mtime === mtimeMs) {
      this.#seen.add(rel);
      this.hits++;
      return e.hash;
    }
    this.misses++;
    return undefined;
  }

  set(rel: string, size: number, mtimeMs: number, hash: string, now = Date.now()): void {
    this.#seen.add(rel);
    if (mtimeMs > now - RACY_MS) {
      if (this.#entries.delete(rel)) this.#dirty = true;
      return;
    }
    this.#entries.set(rel, { size, mtime: mtimeMs, hash });
    this.#dirty = true;
  }

  async save(): Promise<void> {
    if (!this.#dirty) return;
    let list = [...this.#entries];
    if (list.length > MAX_ENTRIES) {
      const seen = list.filter(([k]) => this.#seen.has(k));
      const rest = list.filter(([k]) => !this.#seen.has(k));
      list = [...seen, ...rest].slice(0, MAX_ENTRIES);
    }
    await atomicWriteJson(this.path, { v: 1, entries: list });
    this.#dirty = false;
  }
}
