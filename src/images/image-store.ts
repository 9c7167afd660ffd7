/**
 * Image records: which images exist (by id = digest of the config), their local metadata, and the
 * references (canonical "docker.io/library/busybox:latest" or "name@sha256:...") pointing at them.
 * One JSON file, rewritten atomically per change; changes are serialized.
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { atomicWriteJson } from "../util/index.js";
import { Mutex } from "../util/mutex.js";

export interface ImageRecord {
  id: string;              // "sha256:<hex>"
  added: string;           // when the image was stored here (RFC 3339)
  lastTagTime: string;     // "" until tagged locally
  parent: string;          // local parent image id (commit/build), or ""
}

interface Db {
  version: 1;
  images: Record<string, ImageRecord>;
  refs: Record<string, string>;
}

/** The mutable view handed to ImageStore.update(). */
export interface ImageStoreTx {
  get(id: string): ImageRecord | undefined;
  put(rec: ImageRecord): void;
  delete(id: string): void;
  setRef(ref: string, id: string): string | undefined;   // returns the id the ref pointed at before
  deleteRef(ref: string): boolean;
  refsOf(id: string): string[];
  lookupRef(ref: string): string | undefined;
}

export class ImageStore {
  #db: Db;
  readonly #mutex = new Mutex();

  private constructor(private readonly file: string, db: Db) {
    this.#db = db;
  }

  static async open(root: string): Promise<ImageStore> {
    await mkdir(root, { recursive: true });
    const file = join(root, "images.json");
    let db: Db = { version: 1, images: {}, refs: {} };
    try {
      db = JSON.parse(await readFile(file, "utf8")) as Db;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    return new ImageStore(file, db);
  }

  get(id: string): ImageRecord | undefined {
    return this.#db.images[id];
  }

  has(id: string): boolean {
    return id in this.#db.images;
  }

  list(): ImageRecord[] {
    return Object.values(this.#db.images);
  }

  lookupRef(ref: string): string | undefined {
    return this.#db.refs[ref];
  }

  /** Canonical references of an image, sorted. */
  refsOf(id: string): string[] {
    return Object.entries(this.#db.refs).filter(([, v]) => v === id).map(([k]) => k).sort();
  }

  allRefs(): [string, string][] {
    return Object.entries(this.#db.refs);
  }

  children(id: string): string[] {
    return this.list().filter((r) => r.parent === id).map((r) => r.id);
  }

  /** Run fn serialized with other updates (and anything else passed through exclusive()); persist once at the end. */
  update<T>(fn: (tx: ImageStoreTx) => T | Promise<T>): Promise<T> {
    return this.#mutex.run(() => this.#apply(fn));
  }

  /** Serialize a longer critical section (e.g. check-then-delete) that may call updateLocked. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#mutex.run(fn);
  }

  /** update() for callers already inside exclusive(). */
  updateLocked<T>(fn: (tx: ImageStoreTx) => T | Promise<T>): Promise<T> {
    return this.#apply(fn);
  }

  async #apply<T>(fn: (tx: ImageStoreTx) => T | Promise<T>): Promise<T> {
    const draft: Db = { version: 1, images: { ...this.#db.images }, refs: { ...this.#db.refs } };
    let dirty = false;
    const tx: ImageStoreTx = {
      get: (id) => draft.images[id],
      put: (rec) => { draft.images[rec.id] = { ...rec }; dirty = true; },
      delete: (id) => { delete draft.images[id]; dirty = true; },
      setRef: (ref, id) => {
        const prev = draft.refs[ref];
        draft.refs[ref] = id;
        dirty = true;
        return prev;
      },
      deleteRef: (ref) => {
        if (!(ref in draft.refs)) return false;
        delete draft.refs[ref];
        dirty = true;
        return true;
      },
      refsOf: (id) => Object.entries(draft.refs).filter(([, v]) => v === id).map(([k]) => k).sort(),
      lookupRef: (ref) => draft.refs[ref],
    };
    const result = await fn(tx);
    if (dirty) {
      await atomicWriteJson(this.file, draft);
      this.#db = draft;
    }
    return result;
  }
}
