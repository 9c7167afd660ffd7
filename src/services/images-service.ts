/**
 * ImagesService over the local stores: image records (src/images), blobs (content) and unpacked
 * layers (snapshots). Thin: the mechanics live in src/images.
 */
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { ContentStore } from "../content/index.js";
import { conflict, invalidArgument, isKind } from "../errdefs/index.js";
import { OverlaySnapshotter } from "../snapshots/index.js";
import type {
  Filters, ImageDeleteItem, ImageHistoryItem, ImageInspect, ImageSummary, JsonMessage,
} from "../spec/engine.js";
import type { ImageConfig } from "../spec/oci-image.js";
import {
  familiarString, formatReference, isValidTag, parseReference, parseTaggedReference, type ImageReference,
} from "../spec/reference.js";
import { nowRfc3339, shortId, sha256, ZERO_TIME, type Digest, type Logger } from "../util/index.js";
import type { CommitLayerOptions, ImageUsage, ImagesService, ResolvedImage } from "./types.js";
import type { EventSink } from "./events.js";
import {
  applyChanges, chainIds, collectGarbage, decompressStream, ImageStore, Leases, LeaseGroup, newImageConfig,
  resolveImageId, unpackLayer, commitExtracted, adoptSnapshot, checkFilterKeys, boolFilter, labelsMatch, referenceMatches, parseTimestamp,
  writeDockerArchive, readImageArchive, type ArchiveImage, type ExtractedLayer, type ImageRecord,
} from "../images/index.js";

const NO_USAGE: ImageUsage = { containersUsing: async () => [] };

export class LocalImagesService implements ImagesService {
  #usage: ImageUsage = NO_USAGE;
  readonly #leases = new Leases();
  readonly #configs = new Map<string, ImageConfig>();
  readonly #blobSizes = new Map<string, number>();
  #events: EventSink | undefined;

  private constructor(
    readonly content: ContentStore,
    readonly snapshotter: OverlaySnapshotter,
    readonly store: ImageStore,
    private readonly logger: Logger,
  ) {}

  static async open(opts: { dataRoot: string; logger: Logger; events?: EventSink }): Promise<LocalImagesService> {
    const content = await ContentStore.open(join(opts.dataRoot, "content"));
    const snapshotter = await OverlaySnapshotter.open(join(opts.dataRoot, "snapshots"));
    const store = await ImageStore.open(join(opts.dataRoot, "images"));
    const svc = new LocalImagesService(content, snapshotter, store, opts.logger.child({ module: "images" }));
    svc.#events = opts.events;
    await svc.#recover();
    return svc;
  }

  setUsage(usage: ImageUsage): void {
    this.#usage = usage;
  }

  /** Docker's LogImageEvent: the actor is the image (or the reference for pull/push), attributes its labels and name. */
  async emit(action: string, id: string, name: string, labels?: Record<string, string>): Promise<void> {
    if (!this.#events) return;
    const l = labels ?? (id.startsWith("sha256:") ? (await this.#config(id).catch(() => null))?.config?.Labels ?? {} : {});
    this.#events.publish("image", action, id, { ...l, name });
  }

  /** Drop what a crash left half-made: unpack keys, ingests, unreferenced layer snapshots. */
  async #recover(): Promise<void> {
    for await (const s of this.snapshotter.walk()) {
      if (s.kind === "active" && s.name.startsWith("extract-")) {
        await this.snapshotter.remove(s.name).catch((err) => this.logger.warn("removing stale unpack snapshot", { key: s.name, err }));
      }
    }
    await this.content.sweepIngests();
    await this.store.exclusive(() => this.#gc([]));
  }

  // ---- lookups -------------------------------------------------------------------------------

  async #config(id: string): Promise<ImageConfig> {
    let cfg = this.#configs.get(id);
    if (!cfg) {
      cfg = JSON.parse((await this.content.readBytes(id as Digest)).toString("utf8")) as ImageConfig;
      this.#configs.set(id, cfg);
    }
    return cfg;
  }

  async #blobSize(digest: string): Promise<number> {
    let size = this.#blobSizes.get(digest);
    if (size === undefined) {
      size = (await this.content.info(digest as Digest)).size;
      this.#blobSizes.set(digest, size);
    }
    return size;
  }

  async #imageSize(cfg: ImageConfig): Promise<number> {
    let total = 0;
    for (const d of cfg.rootfs.diff_ids) total += await this.#blobSize(d).catch(() => 0);
    return total;
  }

  #refs(id: string): { tags: string[]; digests: string[] } {
    const tags: string[] = [];
    const digests: string[] = [];
    for (const ref of this.store.refsOf(id)) {
      const r = parseReference(ref);
      (r.digest !== null ? digests : tags).push(familiarString(r));
    }
    return { tags, digests };
  }

  #gc(candidateBlobs: Iterable<string>) {
    return collectGarbage({
      content: this.content, snapshotter: this.snapshotter, store: this.store, leases: this.#leases,
      config: (id) => this.#config(id),
    }, candidateBlobs);
  }

  async resolve(ref: string): Promise<ResolvedImage> {
    const id = resolveImageId(this.store, ref);
    const cfg = await this.#config(id);
    const chains = chainIds(cfg.rootfs.diff_ids);
    return { id, config: cfg.config ?? {}, topSnapshot: chains[chains.length - 1] ?? null, repoTags: this.#refs(id).tags };
  }

  /** The parsed config blob of an image (for push, save and the builder). */
  async imageConfig(ref: string): Promise<{ id: string; config: ImageConfig }> {
    const id = resolveImageId(this.store, ref);
    return { id, config: await this.#config(id) };
  }

  // ---- read side -----------------------------------------------------------------------------

  async list(opts: { all?: boolean; filters?: Filters; digests?: boolean } = {}): Promise<ImageSummary[]> {
    const f = checkFilterKeys(opts.filters, ["dangling", "label", "before", "since", "reference", "until"]);
    const dangling = boolFilter(f, "dangling");
    const before = f.before?.length ? await this.#createdMs(f.before[0]!) : undefined;
    const since = f.since?.length ? await this.#createdMs(f.since[0]!) : undefined;
    const until = f.until?.length ? parseTimestamp(f.until[0]!) : undefined;
    const patterns = f.reference ?? [];
    const out: ImageSummary[] = [];
    for (const rec of this.store.list()) {
      const cfg = await this.#config(rec.id).catch(() => null);
      if (!cfg) continue;
      const created = createdMs(cfg);
      if (before !== undefined && created >= before) continue;
      if (since !== undefined && created <= since) continue;
      if (until !== undefined && created >= until) continue;
      if (!labelsMatch(cfg.config?.Labels ?? {}, f.label)) continue;
      let refs = this.store.refsOf(rec.id).map((r) => parseReference(r));
      const tagged = refs.some((r) => r.tag !== null);
      if (dangling === true && tagged) continue;
      if (dangling === false && !tagged) continue;
      if (!opts.all && !tagged && this.store.children(rec.id).length > 0) continue;
      if (patterns.length > 0) {
        refs = refs.filter((r) => patterns.some((p) => referenceMatches(p, r)));
        if (refs.length === 0) continue;
      }
      out.push(await this.#summary(rec, cfg, refs));
    }
    return out.sort((a, b) => b.Created - a.Created);
  }

  async #summary(rec: ImageRecord, cfg: ImageConfig, refs: ImageReference[]): Promise<ImageSummary> {
    const size = await this.#imageSize(cfg);
    return {
      Containers: -1,
      Created: Math.floor(createdMs(cfg) / 1000),
      Id: rec.id,
      Labels: cfg.config?.Labels ?? {},
      ParentId: rec.parent,
      RepoDigests: refs.filter((r) => r.digest !== null).map(familiarString),
      RepoTags: refs.filter((r) => r.tag !== null && r.digest === null).map(familiarString),
      SharedSize: -1,
      Size: size,
    };
  }

  async #createdMs(ref: string): Promise<number> {
    return createdMs(await this.#config(resolveImageId(this.store, ref)));
  }

  async inspect(ref: string): Promise<ImageInspect> {
    const id = resolveImageId(this.store, ref);
    const rec = this.store.get(id)!;
    const cfg = await this.#config(id);
    const { tags, digests } = this.#refs(id);
    const chains = chainIds(cfg.rootfs.diff_ids);
    const top = chains[chains.length - 1];
    let graphData: Record<string, string> | null = null;
    if (top) {
      try {
        const upper = await this.snapshotter.dir(top);
        const lowers = await this.snapshotter.parentDirs(top);
        graphData = { UpperDir: upper, MergedDir: join(upper, "..", "merged"), WorkDir: join(upper, "..", "work") };
        if (lowers.length > 0) graphData.LowerDir = lowers.join(":");
      } catch (err) {
        if (!isKind(err, "not-found")) throw err;
      }
    }
    const out: ImageInspect = {
      Id: id,
      RepoTags: tags,
      RepoDigests: digests,
      Parent: rec.parent,
      Comment: cfg.comment ?? "",
      Created: cfg.created ?? "",
      DockerVersion: cfg.docker_version ?? "",
      Author: cfg.author ?? "",
      Config: cfg.config ?? {},
      Architecture: cfg.architecture,
      Os: cfg.os,
      Size: await this.#imageSize(cfg),
      GraphDriver: { Name: "overlay2", Data: graphData },
      RootFS: { Type: "layers", Layers: [...cfg.rootfs.diff_ids] },
      Metadata: { LastTagTime: rec.lastTagTime || ZERO_TIME },
    };
    if (cfg.variant) out.Variant = cfg.variant;
    return out;
  }

  async history(ref: string): Promise<ImageHistoryItem[]> {
    const id = resolveImageId(this.store, ref);
    const cfg = await this.#config(id);
    const diffIds = cfg.rootfs.diff_ids;
    const items: ImageHistoryItem[] = [];
    let layer = 0;
    for (const h of cfg.history ?? []) {
      let size = 0;
      if (!h.empty_layer) {
        const d = diffIds[layer++];
        if (d) size = await this.#blobSize(d).catch(() => 0);
      }
      items.push({
        Comment: h.comment ?? "",
        Created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
        CreatedBy: h.created_by ?? "",
        Id: "<missing>",
        Size: size,
        Tags: null,
      });
    }
    items.reverse();
    if (items[0]) {
      items[0].Id = id;
      items[0].Tags = this.#refs(id).tags;
    }
    return items;
  }

  async df(): Promise<{ images: ImageSummary[]; layersSize: number }> {
    const images = await this.list({ all: true });
    const layerUse = new Map<string, number>();
    const layerSets = new Map<string, string[]>();
    for (const img of images) {
      const cfg = await this.#config(img.Id);
      const uniq = [...new Set(cfg.rootfs.diff_ids)];
      layerSets.set(img.Id, uniq);
      for (const d of uniq) layerUse.set(d, (layerUse.get(d) ?? 0) + 1);
    }
    let layersSize = 0;
    for (const d of layerUse.keys()) layersSize += await this.#blobSize(d).catch(() => 0);
    for (const img of images) {
      let shared = 0;
      for (const d of layerSets.get(img.Id) ?? []) if ((layerUse.get(d) ?? 0) > 1) shared += await this.#blobSize(d).catch(() => 0);
      img.SharedSize = shared;
      img.Containers = (await this.#usage.containersUsing(img.Id)).length;
    }
    return { images, layersSize };
  }

  // ---- references ----------------------------------------------------------------------------

  async tag(ref: string, repo: string, tag = ""): Promise<void> {
    const target = parseNewTag(repo, tag);
    const id = resolveImageId(this.store, ref);
    await this.store.update((tx) => {
      if (!tx.get(id)) throw conflict(`No such image: ${ref}`);
      tx.setRef(formatReference(target), id);
      tx.put({ ...tx.get(id)!, lastTagTime: nowRfc3339() });
    });
    await this.emit("tag", id, familiarString(target));
  }

  async remove(ref: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<ImageDeleteItem[]> {
    return this.store.exclusive(async () => {
      const records: ImageDeleteItem[] = [];
      const id = resolveImageId(this.store, ref);
      const force = opts.force ?? false;
      const byId = isIdPrefix(id, ref);
      let repoRefs = this.store.refsOf(id);
      let quiet = false;
      if (!byId) {
        const named = parseTaggedReference(ref);
        const canonical = formatReference(named);
        if (!force && isSingleReference(repoRefs)) {
          const c = (await this.#usage.containersUsing(id))[0];
          if (c) {
            throw conflict(`conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(c.id)} is using its referenced image ${shortId(id)}`);
          }
        }
        await this.store.updateLocked((tx) => { tx.deleteRef(canonical); });
        records.push({ Untagged: familiarString(named) });
        await this.emit("untag", id, id);
        repoRefs = this.store.refsOf(id);
        // The last tag of a repository takes that repository's digest references with it, whatever other
        // repositories still reference the image (Docker's ImageDelete does the same).
        const name = `${named.domain}/${named.path}`;
        const sameRepo = (r: ImageReference) => `${r.domain}/${r.path}` === name;
        const rest = repoRefs.map((s) => ({ s, r: parseReference(s) }));
        if (named.digest === null && !rest.some(({ r }) => r.digest === null && sameRepo(r))) {
          const digests = rest.filter(({ r }) => r.digest !== null && sameRepo(r));
          if (digests.length > 0) {
            await this.store.updateLocked((tx) => { for (const { s } of digests) tx.deleteRef(s); });
            for (const { r } of digests) records.push({ Untagged: familiarString(r) });
            for (const _ of digests) await this.emit("untag", id, id);
            repoRefs = this.store.refsOf(id);
          }
        }
        if (repoRefs.length > 0) return records;
        quiet = true;
      } else if (isSingleReference(repoRefs)) {
        const hard = await this.#conflictOf(id, force ? "hard" : "hard+stopped");
        if (hard) throw hard.error;
        await this.store.updateLocked((tx) => { for (const r of repoRefs) tx.deleteRef(r); });
        for (const r of repoRefs) records.push({ Untagged: familiarString(parseReference(r)) });
        for (const _ of repoRefs) await this.emit("untag", id, id);
      }
      await this.#deleteImage(id, records, force, !(opts.noprune ?? false), quiet);
      return records;
    });
  }

  /** Docker's checkImageDeleteConflict. "hard": children, running containers; soft adds references and stopped containers. */
  async #conflictOf(id: string, mask: "hard" | "hard+stopped" | "all"): Promise<{ error: Error; used: boolean } | null> {
    const fail = (hard: boolean, msg: string, used: boolean) => ({
      error: conflict(`conflict: unable to delete ${shortId(id)} (${hard ? "cannot be forced" : "must be forced"}) - ${msg}`),
      used,
    });
    if (this.store.children(id).length > 0) return fail(true, "image has dependent child images", false);
    const users = await this.#usage.containersUsing(id);
    const running = users.find((c) => c.running);
    if (running) return fail(true, `image is being used by running container ${shortId(running.id)}`, true);
    if (mask === "all" && this.store.refsOf(id).length > 0) return fail(false, "image is referenced in multiple repositories", false);
    if (mask !== "hard") {
      const stopped = users.find((c) => !c.running);
      if (stopped) return fail(false, `image is being used by stopped container ${shortId(stopped.id)}`, true);
    }
    return null;
  }

  async #deleteImage(id: string, records: ImageDeleteItem[], force: boolean, prune: boolean, quiet: boolean): Promise<number> {
    const c = await this.#conflictOf(id, force ? "hard" : "all");
    if (c) {
      const dangling = this.store.refsOf(id).length === 0;
      if (quiet && (!dangling || c.used)) return 0;
      throw c.error;
    }
    const rec = this.store.get(id)!;
    const cfg = await this.#config(id);
    const refs = this.store.refsOf(id);
    await this.store.updateLocked((tx) => {
      for (const r of refs) tx.deleteRef(r);
      tx.delete(id);
    });
    for (const r of refs) records.push({ Untagged: familiarString(parseReference(r)) });
    records.push({ Deleted: id });
    const labels = cfg.config?.Labels ?? {};
    for (const _ of refs) await this.emit("untag", id, id, labels);
    await this.emit("delete", id, id, labels);
    const gc = await this.#gc([id, ...cfg.rootfs.diff_ids]);
    this.#configs.delete(id);
    for (const s of gc.snapshots) records.push({ Deleted: s });
    let reclaimed = 0;
    for (const b of gc.blobs) {
      this.#blobSizes.delete(b.digest);
      if (b.digest !== id) reclaimed += b.size;
    }
    if (prune && rec.parent && this.store.has(rec.parent)) {
      reclaimed += await this.#deleteImage(rec.parent, records, false, true, true).catch(() => 0);
    }
    return reclaimed;
  }

  async prune(opts: { filters?: Filters } = {}): Promise<{ ImagesDeleted: ImageDeleteItem[] | null; SpaceReclaimed: number }> {
    const f = checkFilterKeys(opts.filters, ["dangling", "label", "label!", "until"]);
    const danglingOnly = boolFilter(f, "dangling") ?? true;
    const until = f.until?.length ? parseTimestamp(f.until[0]!) : undefined;
    return this.store.exclusive(async () => {
      const deleted: ImageDeleteItem[] = [];
      let reclaimed = 0;
      for (const rec of this.store.list()) {
        if (!this.store.has(rec.id)) continue;
        const cfg = await this.#config(rec.id).catch(() => null);
        if (!cfg) continue;
        const refs = this.store.refsOf(rec.id);
        if (danglingOnly && refs.length > 0) continue;
        if (this.store.children(rec.id).length > 0) continue;
        if (until !== undefined && createdMs(cfg) >= until) continue;
        const labels = cfg.config?.Labels ?? {};
        if (!labelsMatch(labels, f.label) || !labelsMatch(labels, f["label!"], true)) continue;
        if ((await this.#usage.containersUsing(rec.id)).length > 0) continue;
        const items: ImageDeleteItem[] = [];
        try {
          reclaimed += await this.#deleteImage(rec.id, items, true, true, false);
          deleted.push(...items);
        } catch (err) {
          if (!isKind(err, "conflict")) throw err;
        }
      }
      return { ImagesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed };
    });
  }

  // ---- making images -------------------------------------------------------------------------

  async import(src: Readable, opts: { repo?: string; tag?: string; changes?: string[]; message?: string; signal?: AbortSignal }): Promise<string> {
    const target = opts.repo ? parseNewTag(opts.repo, opts.tag ?? "") : null;
    const config = applyChanges({}, opts.changes ?? []);
    const comment = opts.message || "Imported from -";
    const tar = await decompressStream(src);
    const id = await this.commitLayer({
      parent: null, layer: tar, config, comment, createdBy: "",
      ...(target ? { tag: formatReference(target) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    await this.emit("import", id, id);
    return id;
  }

  async commitLayer(opts: CommitLayerOptions): Promise<string> {
    const target = opts.tag ? parseTaggedReference(opts.tag) : null;
    if (target && target.digest !== null) throw invalidArgument("refusing to create a tag with a digest reference");
    const parentId = opts.parent ? resolveImageId(this.store, opts.parent) : null;
    const parentCfg = parentId ? await this.#config(parentId) : null;
    const leases = new LeaseGroup(this.#leases);
    const made: string[] = [];
    try {
      if (parentId) leases.add(parentId);
      let diffId: string | null = null;
      if (opts.snapshot) {
        const chains = chainIds(parentCfg?.rootfs.diff_ids ?? []);
        const r = await adoptSnapshot(this, opts.snapshot, {
          parentChain: chains[chains.length - 1] ?? null, leases, ...(opts.signal ? { signal: opts.signal } : {}),
        });
        if (r.createdBlob) made.push(r.diffId);
        diffId = r.diffId;
      } else if (opts.layer) {
        const chains = chainIds(parentCfg?.rootfs.diff_ids ?? []);
        const r = await unpackLayer(this, opts.layer, {
          parentChain: chains[chains.length - 1] ?? null, leases,
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        if (r.createdBlob) made.push(r.diffId);
        diffId = r.diffId;
      }
      const created = nowRfc3339();
      const cfg = newImageConfig(parentCfg, {
        diffId, config: opts.config, created,
        ...(opts.createdBy !== undefined ? { createdBy: opts.createdBy } : {}),
        ...(opts.comment ? { comment: opts.comment } : {}),
        ...(opts.historyComment ? { historyComment: opts.historyComment } : {}),
        ...(opts.author ? { author: opts.author } : {}),
      });
      const bytes = Buffer.from(JSON.stringify(cfg));
      const id = sha256(bytes);
      leases.add(id);
      if (!(await this.content.has(id))) made.push(id);
      await this.content.putBytes(bytes, id);
      await this.store.update((tx) => {
        const prev = tx.get(id);
        tx.put(prev ?? { id, added: created, lastTagTime: target ? created : "", parent: parentId ?? "" });
        if (target) {
          tx.setRef(formatReference(target), id);
          tx.put({ ...tx.get(id)!, lastTagTime: created });
        }
      });
      return id;
    } catch (err) {
      leases.release();
      await this.store.exclusive(() => this.#gc(made)).catch(() => {});
      throw err;
    } finally {
      leases.release();
    }
  }

  /**
   * Store an image from its exact config bytes (pull, and anything else that has a config and its
   * layers): layers not yet present are opened, in order, as UNCOMPRESSED tars and verified against
   * the config's diff ids. `refs` are tags or digest references ("name@sha256:..." = RepoDigests).
   */
  async addImage(opts: {
    config: Buffer;
    /** The layer as an uncompressed tar; with `file`, a file holding exactly those bytes (moved in as the blob). */
    /** Or a layer the caller already applied ahead of its parents (consumed on success, the caller's on failure). */
    openLayer: (index: number, diffId: string) => Promise<Readable | { stream: Readable; file?: string; knownDiffId?: () => Digest | undefined } | { extracted: ExtractedLayer }>;
    refs?: string[];
    signal?: AbortSignal;
  }): Promise<string> {
    const refs = (opts.refs ?? []).map((r) => parseTaggedReference(r));
    let cfg: ImageConfig;
    try {
      cfg = JSON.parse(opts.config.toString("utf8")) as ImageConfig;
    } catch {
      throw invalidArgument("invalid image config: not JSON");
    }
    if (!cfg?.rootfs || !Array.isArray(cfg.rootfs.diff_ids)) throw invalidArgument("invalid image config: no rootfs.diff_ids");
    const id = sha256(opts.config);
    const leases = new LeaseGroup(this.#leases);
    const made: string[] = [];
    try {
      let parent: string | null = null;
      for (const [i, diffId] of cfg.rootfs.diff_ids.entries()) {
        const chainId = chainIds(cfg.rootfs.diff_ids.slice(0, i + 1))[i]!;
        leases.add(chainId, diffId);
        if (!(await this.#layerPresent(chainId, diffId))) {
          const opened = await opts.openLayer(i, diffId);
          if ("extracted" in opened) {
            const r = await commitExtracted(this, opened.extracted, { parentChain: parent, expectedDiffId: diffId, leases, label: `invalid diffID for layer ${i}` });
            if (r.createdBlob) made.push(r.diffId);
            parent = chainId;
            continue;
          }
          const { stream, file, knownDiffId } = "stream" in opened ? opened : { stream: opened, file: undefined, knownDiffId: undefined };
          const r = await unpackLayer(this, stream, {
            ...(knownDiffId ? { knownDiffId } : {}),
            parentChain: parent, expectedDiffId: diffId, leases, label: `invalid diffID for layer ${i}`, ...(file ? { blobFile: file } : {}),
            ...(opts.signal ? { signal: opts.signal } : {}),
          });
          if (r.createdBlob) made.push(r.diffId);
        }
        parent = chainId;
      }
      leases.add(id);
      if (!(await this.content.has(id))) made.push(id);
      await this.content.putBytes(opts.config, id);
      await this.store.update((tx) => {
        if (!tx.get(id)) tx.put({ id, added: nowRfc3339(), lastTagTime: "", parent: "" });
        for (const r of refs) tx.setRef(formatReference(r), id);
      });
      return id;
    } catch (err) {
      leases.release();
      await this.store.exclusive(() => this.#gc(made)).catch(() => {});
      throw err;
    } finally {
      leases.release();
    }
  }

  // ---- archives ------------------------------------------------------------------------------

  async save(refs: string[], out: Writable, opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (refs.length === 0) throw invalidArgument("no images specified");
    const byId = new Map<string, ArchiveImage>();
    for (const ref of refs) {
      const { id, tags } = this.#saveTarget(ref);
      const entry = byId.get(id) ?? { id, config: await this.#config(id), repoTags: [] };
      for (const t of tags) if (!entry.repoTags.some((x) => formatReference(x) === formatReference(t))) entry.repoTags.push(t);
      byId.set(id, entry);
    }
    const leases = new LeaseGroup(this.#leases);
    try {
      for (const img of byId.values()) leases.add(img.id, ...img.config.rootfs.diff_ids);
      await writeDockerArchive(this.content, [...byId.values()], out, opts.signal);
    } finally {
      leases.release();
    }
    for (const img of byId.values()) await this.emit("save", img.id, img.id, img.config.config?.Labels ?? {});
  }

  /** docker save: a tag saves that tag, a bare name all its tags, an id the image untagged. */
  #saveTarget(ref: string): { id: string; tags: ImageReference[] } {
    let named: ImageReference | null = null;
    try { named = parseReference(ref); } catch { /* an id */ }
    if (named && named.digest === null) {
      if (named.tag === null) {
        const name = `${named.domain}/${named.path}`;
        const hits = this.store.allRefs().map(([r, id]) => ({ r: parseReference(r), id }))
          .filter(({ r }) => `${r.domain}/${r.path}` === name && r.tag !== null && r.digest === null);
        if (hits.length > 0) {
          // docker save of a bare name exports every tag of that repository; they may be different images.
          const id = hits[0]!.id;
          if (hits.every((h) => h.id === id)) return { id, tags: hits.map((h) => h.r) };
        }
      }
      const canonical = formatReference(parseTaggedReference(ref));
      const id = this.store.lookupRef(canonical);
      if (id) return { id, tags: [parseTaggedReference(ref)] };
    }
    return { id: resolveImageId(this.store, ref), tags: [] };
  }

  async *load(src: Readable, opts: { signal?: AbortSignal } = {}): AsyncIterable<JsonMessage> {
    const leases = new LeaseGroup(this.#leases);
    const created: string[] = [];
    const loaded: string[] = [];
    const deps = { content: this.content, snapshotter: this.snapshotter };
    let messages: JsonMessage[];
    try {
      const result = await readImageArchive(deps, await decompressStream(src), {
        leases, created, signal: opts.signal,
        layerPresent: async (chainId, diffId) => {
          leases.add(chainId, diffId);
          return this.#layerPresent(chainId, diffId);
        },
      });
      messages = await this.store.update((tx) => {
        const out: JsonMessage[] = [];
        for (const img of result.images) {
          loaded.push(img.id);
          if (!tx.get(img.id)) tx.put({ id: img.id, added: nowRfc3339(), lastTagTime: "", parent: "" });
          for (const t of img.tags) {
            const prev = tx.setRef(formatReference(t), img.id);
            if (prev && prev !== img.id) {
              out.push({ stream: `The image ${familiarString(t)} already exists, renaming the old one with ID ${prev} to empty string\n` });
            }
            out.push({ stream: `Loaded image: ${familiarString(t)}\n` });
          }
          if (img.tags.length === 0) out.push({ stream: `Loaded image ID: ${img.id}\n` });
        }
        return out;
      });
      leases.release();
      // Manifests and compressed copies spooled from the archive are not kept.
      await this.store.exclusive(() => this.#gc(result.spooledBlobs));
    } catch (err) {
      leases.release();
      await this.store.exclusive(() => this.#gc(created)).catch((e) => this.logger.warn("cleanup after failed load", { err: e }));
      throw err;
    }
    for (const id of loaded) await this.emit("load", id, id);
    yield* messages;
  }

  async #layerPresent(chainId: string, diffId: string): Promise<boolean> {
    if (!(await this.content.has(diffId as Digest))) return false;
    try {
      return (await this.snapshotter.stat(chainId)).kind === "committed";
    } catch (err) {
      if (isKind(err, "not-found")) return false;
      throw err;
    }
  }
}

/** "repo" + "tag" (or "repo:tag" when tag is empty) -> a tagged reference; digests are refused. */
function parseNewTag(repo: string, tag: string): ImageReference {
  const r = parseReference(repo);
  if (r.digest !== null) throw invalidArgument("refusing to create a tag with a digest reference");
  if (tag !== "") {
    if (!isValidTag(tag)) throw invalidArgument("invalid tag format");
    if (r.tag !== null) throw invalidArgument("invalid reference format");
    return { ...r, tag };
  }
  return r.tag === null ? { ...r, tag: "latest" } : r;
}

function createdMs(cfg: ImageConfig): number {
  const t = cfg.created ? Date.parse(cfg.created) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

function isIdPrefix(id: string, ref: string): boolean {
  const m = /^(?:sha256:)?([a-f0-9]+)$/.exec(ref);
  return m !== null && id.startsWith(`sha256:${m[1]}`);
}

/** At most one tag, and all references in one repository (Docker's isSingleReference). */
function isSingleReference(refs: string[]): boolean {
  const parsed = refs.map(parseReference);
  if (parsed.filter((r) => r.digest === null).length > 1) return false;
  return new Set(parsed.map((r) => `${r.domain}/${r.path}`)).size <= 1;
}
