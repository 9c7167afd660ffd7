import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { atomicWriteJson } from "../util/index.js";

/** Where a layer (by diff id) is known to exist compressed: a blob in a repository of a registry. */
export interface LayerSource {
  digest: string;
  size: number;
  mediaType: string;
  registry: string;   // host[:port]
  repo: string;
}

const MAX_PER_LAYER = 16;

/**
 * diff id -> compressed blobs seen on registries (pulled from or pushed to), so a push can HEAD or mount
 * instead of uploading. One small JSON record, rewritten atomically, like Docker's v2 metadata service.
 */
export class LayerSources {
  #map = new Map<string, LayerSource[]>();
  #writing: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {}

  static async open(dir: string): Promise<LayerSources> {
    await mkdir(dir, { recursive: true });
    const s = new LayerSources(join(dir, "layer-sources.json"));
    try {
      const obj = JSON.parse(await readFile(s.file, "utf8")) as Record<string, LayerSource[]>;
      for (const [k, v] of Object.entries(obj)) if (Array.isArray(v)) s.#map.set(k, v);
    } catch { /* none yet, or a torn file from an old crash: start empty */ }
    return s;
  }

  get(diffId: string): LayerSource[] {
    return this.#map.get(diffId) ?? [];
  }

  async add(diffId: string, src: LayerSource): Promise<void> {
    const list = this.get(diffId).filter((x) => !(x.digest === src.digest && x.registry === src.registry && x.repo === src.repo));
    list.unshift(src);
    this.#map.set(diffId, list.slice(0, MAX_PER_LAYER));
    const snapshot = Object.fromEntries(this.#map);
    this.#writing = this.#writing.then(() => atomicWriteJson(this.file, snapshot), () => atomicWriteJson(this.file, snapshot));
    await this.#writing;
  }
}
