/**
 * Pull, push and login: the registry client (src/distribution) composed with the local image store.
 * Layers are downloaded in parallel (verified, resumable); gzip layers are decoded and applied on worker
 * threads as they arrive, each into a directory of its own, and LocalImagesService.addImage moves them into
 * snapshots in layer order; the uncompressed tar becomes the layer blob. Pushes gzip layers on the fly and
 * remember where each layer already exists so the next push is a HEAD or a mount.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { constants as zlibConstants, createGunzip } from "node:zlib";
import type { ContentStore } from "../content/index.js";
import { cancelled, dataLoss, EngineError, invalidArgument, isKind, notFound, unauthorized } from "../errdefs/index.js";
import { chainIds, decompressStream, layerPresent } from "../images/index.js";
import type { JsonMessage } from "../spec/engine.js";
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MediaType, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from "../spec/oci-image.js";
import { familiarString, formatReference, parseReference, referenceName, type ImageReference } from "../spec/reference.js";
import { DigestStream, shortId, type Digest, type Logger } from "../util/index.js";
import {
  AdaptiveGzip, AsyncQueue, LayerDecoder, domainOfServer, fetchBlob, remoteBlob, formatPlatform, hasCredentials, LayerSources, mapLimit,
  normalizeAuth, parsePlatform, ProgressCounter, registryEndpoints, RegistryClient, RegistryError, RemoteRepository,
  selectManifest, SpoolFile, status, type AuthConfig, type Emit, type RegistryEndpoint,
} from "../distribution/index.js";
import type { LocalImagesService } from "./images-service.js";

export type { AuthConfig } from "../distribution/index.js";

export interface DistributionConfig {
  insecureRegistries?: string[];
  allowedRegistries?: string[];
  registryMirrors?: string[];
  maxConcurrentDownloads?: number;
  maxConcurrentUploads?: number;
  /** gzip level for pushed layers (default 1: pushes are network- not size-bound on the networks we target) */
  compressionLevel?: number;
  /** Where the layer-source record lives (default <dataRoot>/distribution) */
  stateDir?: string;
  /** A response that stalls this long fails and is retried (default 30 s). */
  idleTimeoutMs?: number;
  /** Wait before retrying a layer download (default: n seconds before retry n, as Docker). */
  retryBackoffMs?: number;
}

export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: { architecture: string; os: string; "os.version"?: string; "os.features"?: string[]; variant?: string }[];
}

export interface PullOptions { platform?: string; allTags?: boolean; auth?: AuthConfig; signal?: AbortSignal }
export interface PushOptions { tag?: string; auth?: AuthConfig; signal?: AbortSignal }

interface Spooled {
  file: SpoolFile;
  done: Promise<void>;
  /** When the layer is applied on its worker as it downloads: the directory it is applied into. */
  applied?: { dir: string };
}

interface Download {
  desc: Descriptor;
  id: string;                       // short id shown in progress
  /** Apply the layer on its worker while it downloads, ahead of its parents (see #download). */
  applyAhead: boolean;
  /** The spool the layer is downloaded into, once its download has started. */
  spool: Promise<Spooled>;
  start(): Promise<Spooled>;
}

const LAYER_TYPES = new Set<string>([
  MediaType.layer, MediaType.layerGzip, MediaType.layerZstd, MediaType.dockerLayer, MediaType.dockerLayerGzip,
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
]);

export class DistributionService {
  readonly #images: LocalImagesService;
  readonly #content: ContentStore;
  readonly #logger: Logger;
  readonly #config: DistributionConfig;
  #sources: Promise<LayerSources> | null = null;
  #spools: Promise<string> | null = null;
  readonly #decoder: LayerDecoder;

  constructor(opts: { images: LocalImagesService; content: ContentStore; logger: Logger; config: DistributionConfig; decoder?: LayerDecoder }) {
    this.#decoder = opts.decoder ?? sharedDecoder;
    this.#images = opts.images;
    this.#content = opts.content;
    this.#logger = opts.logger.child({ module: "distribution" });
    this.#config = opts.config;
  }

  #stateDir(): string {
    return this.#config.stateDir ?? join(dirname(this.#content.root), "distribution");
  }

  #layerSources(): Promise<LayerSources> {
    this.#sources ??= LayerSources.open(this.#stateDir());
    return this.#sources;
  }

  /** Spool files of layers being pulled; anything there at start was left by a crash. */
  #spoolDir(): Promise<string> {
    this.#spools ??= (async () => {
      const dir = join(this.#stateDir(), "downloads");
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      return dir;
    })();
    return this.#spools;
  }

  /** Credentials come only from the client (X-Registry-Auth), as with dockerd: the daemon reads no docker config file. */
  #credentials(given: AuthConfig | undefined): AuthConfig | undefined {
    const a = normalizeAuth(given);
    return hasCredentials(a) ? a : undefined;
  }

  #client(endpoint: RegistryEndpoint, auth: AuthConfig | undefined): RegistryClient {
    return new RegistryClient({
      endpoint, logger: this.#logger, userAgent: "berth/0.1",
      ...(auth && !endpoint.mirror ? { auth } : {}),
      ...(this.#config.insecureRegistries ? { insecureRegistries: this.#config.insecureRegistries } : {}),
      ...(this.#config.idleTimeoutMs ? { idleTimeoutMs: this.#config.idleTimeoutMs } : {}),
    });
  }

  // ---- login ---------------------------------------------------------------------------------

  async login(auth: AuthConfig): Promise<{ Status: string; IdentityToken?: string }> {
    const a = normalizeAuth(auth) ?? {};
    const domain = domainOfServer(a.serveraddress);
    const endpoint = registryEndpoints(domain, this.#config, { push: true }).at(-1)!;
    const client = this.#client(endpoint, a);
    try {
      await client.ping();
    } catch (err) {
      if (err instanceof RegistryError && err.status === 401) {
        const ch = client.challenge;
        if (ch?.scheme === "basic" || !ch) throw unauthorized(`login attempt to ${client.baseUrl}/v2/ failed with status: 401 Unauthorized`);
        throw unauthorized(err.message.startsWith("unauthorized") ? err.message : `unauthorized: ${err.message}`);
      }
      throw err;
    }
    return { Status: "Login Succeeded", IdentityToken: "" };
  }

  // ---- inspect -------------------------------------------------------------------------------

  /** GET /distribution/{name}/json: the top descriptor of a reference on its registry, and its platforms. */
  async inspect(ref: string, opts: { auth?: AuthConfig; signal?: AbortSignal } = {}): Promise<DistributionInspect> {
    const parsed = parseReference(ref);
    const r = parsed.tag === null && parsed.digest === null ? { ...parsed, tag: "latest" } : parsed;
    const endpoint = registryEndpoints(r.domain, this.#config).at(-1)!;
    const repo = new RemoteRepository(this.#client(endpoint, this.#credentials(opts.auth)), r.path);
    const top = await repo.getManifest(r.digest ?? r.tag!, opts.signal);
    const Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length };
    const doc = JSON.parse(top.bytes.toString("utf8")) as ImageIndex & ImageManifest;
    let Platforms: DistributionInspect["Platforms"] = [];
    if (INDEX_MEDIA_TYPES.includes(top.mediaType)) {
      Platforms = (doc.manifests ?? []).filter((m) => m.platform).map((m) => ({
        architecture: m.platform!.architecture, os: m.platform!.os,
        ...(m.platform!["os.version"] ? { "os.version": m.platform!["os.version"] } : {}),
        ...(m.platform!["os.features"] ? { "os.features": m.platform!["os.features"] } : {}),
        ...(m.platform!.variant ? { variant: m.platform!.variant } : {}),
      }));
    } else if (doc.config?.digest) {
      const cfg = JSON.parse((await repo.readBlob(doc.config.digest as Digest, 16 << 20, opts.signal)).toString("utf8")) as ImageConfig & { variant?: string };
      Platforms = [{ architecture: cfg.architecture, os: cfg.os, ...(cfg.variant ? { variant: cfg.variant } : {}) }];
    }
    return { Descriptor, Platforms };
  }

  // ---- pull ----------------------------------------------------------------------------------

  pull(ref: string, opts: PullOptions = {}): AsyncIterable<JsonMessage> {
    return this.#run((emit) => this.#pull(ref, opts, emit));
  }

  async *#run(work: (emit: Emit) => Promise<void>): AsyncIterable<JsonMessage> {
    const q = new AsyncQueue<JsonMessage>();
    const p = work((m) => q.push(m)).then(() => q.end(), (err) => q.fail(err));
    yield* q;
    await p;
  }

  async #pull(refStr: string, opts: PullOptions, emit: Emit): Promise<void> {
    const r = parseReference(refStr);
    if (opts.allTags) {
      if (r.tag !== null || r.digest !== null) throw invalidArgument("tag can't be used with --all-tags/-a");
      const endpoint = registryEndpoints(r.domain, this.#config).at(-1)!;
      const repo = new RemoteRepository(this.#client(endpoint, this.#credentials(opts.auth)), r.path);
      const tags = await repo.tags(opts.signal);
      if (tags.length === 0) throw notFound(`no tags found for ${familiarString(r)}`);
      for (const tag of tags) await this.#pullOne({ ...r, tag }, opts, emit, false);
      emit({ status: `Status: Downloaded newer image for ${familiarString(r)}` });
      return;
    }
    await this.#pullOne(r.tag === null && r.digest === null ? { ...r, tag: "latest" } : r, opts, emit, true);
  }

  async #pullOne(r: ImageReference, opts: PullOptions, emit: Emit, final: boolean): Promise<void> {
    const auth = this.#credentials(opts.auth);
    const endpoints = registryEndpoints(r.domain, this.#config);
    for (const [i, ep] of endpoints.entries()) {
      try {
        await this.#pullFrom(ep, this.#client(ep, auth), r, opts, emit, final);
        await this.#images.emit("pull", familiarString(r), familiarString(r));
        return;
      } catch (err) {
        if (!ep.mirror || i === endpoints.length - 1 || opts.signal?.aborted) throw err;
        this.#logger.warn("pull from mirror failed, trying the next endpoint", { mirror: ep.host, err });
      }
    }
  }

  async #pullFrom(ep: RegistryEndpoint, client: RegistryClient, r: ImageReference, opts: PullOptions, emit: Emit, final: boolean): Promise<void> {
    const signal = opts.signal;
    const repo = new RemoteRepository(client, r.path);
    const reference = r.digest ?? r.tag!;
    let top;
    try {
      top = await repo.getManifest(reference, signal);
    } catch (err) {
      if (err instanceof RegistryError && (err.status === 401 || err.status === 403 || (err.status === 404 && err.codes.includes("NAME_UNKNOWN")))) {
        throw new EngineError(err.status === 404 ? "not-found" : "unauthorized",
          `pull access denied for ${familiarString({ ...r, tag: null, digest: null })}, repository does not exist or may require 'docker login': ${err.message}`);
      }
      throw err;
    }
    const want = parsePlatform(opts.platform);
    let manifestBytes = top.bytes;
    let mediaType = top.mediaType;
    if (INDEX_MEDIA_TYPES.includes(mediaType)) {
      const index = JSON.parse(top.bytes.toString("utf8")) as ImageIndex;
      const child = selectManifest(index.manifests ?? [], want, familiarString(r));
      const m = await repo.getManifest(child.digest, signal);
      manifestBytes = m.bytes;
      mediaType = m.mediaType;
    }
    if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) throw invalidArgument(`unsupported manifest media type ${mediaType} for ${familiarString(r)}`);
    const manifest = JSON.parse(manifestBytes.toString("utf8")) as ImageManifest;
    if (!manifest.config?.digest || !Array.isArray(manifest.layers)) throw invalidArgument(`invalid manifest for ${familiarString(r)}`);
    emit({ status: `Pulling from ${r.path}`, id: r.tag ?? r.digest! });

    const configBytes = await repo.readBlob(manifest.config.digest as Digest, 16 << 20, signal).catch((err) => {
      if (isKind(err, "data-loss")) throw dataLoss(`image config verification failed for digest ${manifest.config.digest}`);
      throw err;
    });
    const config = JSON.parse(configBytes.toString("utf8")) as ImageConfig;
    if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids)) throw invalidArgument("invalid image config: no rootfs.diff_ids");
    if (opts.platform && !INDEX_MEDIA_TYPES.includes(top.mediaType) && (config.os !== want.os || config.architecture !== want.architecture)) {
      throw notFound(`image with reference ${familiarString(r)} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${config.os}/${config.architecture}`);
    }
    const layers = manifest.layers.filter((l) => LAYER_TYPES.has(l.mediaType) || !l.mediaType.includes("config"));
    const diffIds = config.rootfs.diff_ids;
    if (layers.length !== diffIds.length) {
      throw invalidArgument(`image ${familiarString(r)}: manifest has ${layers.length} layers but the config has ${diffIds.length} diff ids`);
    }
    for (const l of layers) {
      if (!l.digest?.startsWith("sha256:")) throw invalidArgument(`unsupported layer digest ${l.digest}`);
    }

    const chains = chainIds(diffIds);
    const deps = { content: this.#content, snapshotter: this.#images.snapshotter };
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const downloads = new Map<string, Download>();
    const queue: Download[] = [];
    const spoolDir = await this.#spoolDir();
    // Each layer is applied on its decode worker as it arrives, all in parallel, into a directory of its own;
    // addImage then moves them into snapshots on their parents, in order. Only for gzip layers each appearing once:
    // anything else is spooled and applied in order on this thread.
    const present: boolean[] = [];
    for (const [i, desc] of layers.entries()) present.push(await layerPresent(deps, chains[i]!, diffIds[i]!));
    const snaps = this.#images.snapshotter;
    // The trees are made beside the spool files and renamed into snapshots: one filesystem needed.
    const sameFs = (await stat(spoolDir)).dev === (await stat(snaps.root)).dev;
    const applyAhead = sameFs && new Set(layers.map((l) => l.digest)).size === layers.length && layers.every((l, i) => present[i] || GZIP_TYPES.has(l.mediaType));
    const tempDirs: string[] = [];
    // The parents' dirs of layer i, nearest first, once they are complete. No applied tree is moved into its
    // snapshot before every layer is applied (see openLayer), so these stay valid while layer i reads them.
    const lowersFor = async (i: number): Promise<string[]> => {
      const dirs: string[] = [];
      for (let k = i - 1; k >= 0; k--) {
        const lower = downloads.get(layers[k]!.digest);
        if (!lower) return [...dirs, await snaps.dir(chains[k]!), ...(await snaps.parentDirs(chains[k]!))];   // present, committed
        const s = await lower.spool;
        await s.done;
        // Judged present at the start, removed since and fetched again in order: not a dir to apply onto.
        if (!s.applied) throw new EngineError("conflict", `layer ${shortId(layers[k]!.digest)} was removed while the image was being pulled: pull again`);
        dirs.push(s.applied.dir);
      }
      return dirs;
    };
    const allApplied = async () => {
      for (const dl of downloads.values()) if (dl.applyAhead) await (await dl.spool).done;
    };
    const newDownload = (desc: Descriptor, ahead: boolean): Download => {
      let resolve!: (s: Spooled) => void;
      let reject!: (e: unknown) => void;
      const spool = new Promise<Spooled>((res, rej) => { resolve = res; reject = rej; });
      spool.catch(() => {});
      const dl: Download = {
        desc, id: shortId(desc.digest), spool, applyAhead: ahead,
        start: () => {
          const i = layers.indexOf(desc);
          const p = this.#download(repo, dl, spoolDir, emit, ac.signal, ahead ? { lowers: () => lowersFor(i), tempDirs } : undefined);
          p.then(resolve, reject);
          return p;
        },
      };
      downloads.set(desc.digest, dl);
      return dl;
    };
    for (const [i, desc] of layers.entries()) {
      if (downloads.has(desc.digest)) continue;
      if (present[i]) {
        status(emit, shortId(desc.digest), "Already exists");
        continue;
      }
      status(emit, shortId(desc.digest), "Pulling fs layer");
      queue.push(newDownload(desc, applyAhead));
    }
    const limit = Math.max(1, this.#config.maxConcurrentDownloads ?? 3);
    for (const dl of queue.slice(limit)) status(emit, dl.id, "Waiting");
    // Downloads run ahead (into spool files, or applied as they arrive); addImage takes them in layer order.
    const fetching = mapLimit(queue, limit, async (dl) => {
      const spool = await dl.start();
      await spool.done;
    });
    fetching.catch(() => {});

    const tagRef = r.tag !== null ? formatReference({ ...r, digest: null }) : null;
    const prevId = tagRef ? this.#images.store.lookupRef(tagRef) : (r.digest ? this.#images.store.lookupRef(formatReference(r)) : undefined);
    const refs = [...(tagRef ? [tagRef] : []), formatReference({ ...r, tag: null, digest: top.digest })];
    let extracting: Download | null = null;
    let id: string;
    try {
      id = await this.#images.addImage({
        config: configBytes, refs, signal: ac.signal,
        openLayer: async (i) => {
          if (extracting) status(emit, extracting.id, "Pull complete");
          extracting = null;
          const desc = layers[i]!;
          let dl = downloads.get(desc.digest);
          if (!dl) {
            // Judged present at the start but gone since: fetch it now.
            dl = newDownload(desc, false);
            status(emit, dl.id, "Pulling fs layer");
            dl.start().catch(() => {});
          }
          const spool = await dl.spool;
          extracting = dl;
          if (spool.applied) {
            // Also keeps the commits' syncs from queueing behind the other layers' writes (measured: faster).
            await allApplied();
            // Applied as it downloaded; what is left is moving it under its parent.
            emit({ status: "Extracting", progressDetail: { current: desc.size, total: desc.size }, id: dl.id });
            return {
              extracted: {
                dir: spool.applied.dir, diffId: spool.file.digest!, size: spool.file.written, blobFile: spool.file.path,
              },
            };
          }
          const counter = new ProgressCounter(emit, dl.id, "Extracting", desc.size, 0, 150, true);
          const src = spool.file.reader(ac.signal);
          src.once("error", (e) => counter.destroy(e));
          // The worker hashed the uncompressed bytes as it wrote them: the extraction does not hash them again.
          return { stream: src.pipe(counter), file: spool.file.path, ...(GZIP_TYPES.has(desc.mediaType) ? { knownDiffId: () => spool.file.digest } : {}) };
        },
      });
      if (extracting) status(emit, (extracting as Download).id, "Pull complete");
      await fetching;
    } catch (err) {
      ac.abort();
      throw signal?.aborted ? cancelled() : err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      await fetching.catch(() => {});
      for (const dl of downloads.values()) {
        const s = await dl.spool.catch(() => null);
        await s?.done.catch(() => {});
        await s?.file.dispose();
      }
      // Applied trees that were not moved into snapshots (a failure, a layer present after all).
      for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
    }
    if (!ep.mirror) {
      const sources = await this.#layerSources();
      for (const [i, l] of layers.entries()) {
        await sources.add(diffIds[i]!, { digest: l.digest, size: l.size, mediaType: l.mediaType, registry: ep.host, repo: r.path }).catch(() => {});
      }
    }
    emit({ status: `Digest: ${top.digest}` });
    if (final) {
      const upToDate = prevId === id && downloads.size === 0;
      emit({ status: `Status: ${upToDate ? "Image is up to date" : "Downloaded newer image"} for ${familiarString(r)}` });
    }
  }

  /**
   * Start fetching one compressed layer: verified and resumed by fetchBlob, decompressed (gzip: on a worker),
   * spooled uncompressed and, with `ahead`, applied into a directory by that worker. Resolves once the spool
   * exists; `done` settles when the layer is fully there (and applied).
   */
  async #download(
    repo: RemoteRepository, dl: Download, spoolDir: string, emit: Emit, signal: AbortSignal,
    ahead?: { lowers: () => Promise<string[]>; tempDirs: string[] },
  ): Promise<Spooled> {
    const { desc, id } = dl;
    let applied: Spooled["applied"];
    if (ahead) {
      // Not a snapshot yet (its parents may not be ones): the spool dir, swept at start, holds it until then.
      const dir = join(spoolDir, `${randomBytes(8).toString("hex")}.fs`);
      await mkdir(dir, { mode: 0o755 });
      ahead.tempDirs.push(dir);
      applied = { dir };
    }
    const file = await SpoolFile.create(join(spoolDir, randomBytes(8).toString("hex")));
    let current = 0;
    let last = 0;
    const progress = () => emit({ status: "Downloading", progressDetail: { current, total: desc.size }, id });
    const fetchOpts = {
      size: desc.size, signal, logger: this.#logger,
      onRetry: (_n: number, waitS: number) => status(emit, id, `Retrying in ${waitS} second${waitS === 1 ? "" : "s"}`),
      ...(this.#config.retryBackoffMs !== undefined ? { backoffMs: () => this.#config.retryBackoffMs! } : {}),
    };
    let done: Promise<void>;
    if (GZIP_TYPES.has(desc.mediaType)) {
      // Off the main thread: the worker reads the bytes off its own socket, takes both digests, gunzips and
      // writes the spool (and applies the tar) itself.
      const src = remoteBlob(repo, desc.digest, {
        ...fetchOpts,
        onData: (total) => {
          current = total;
          if (Date.now() - last >= 150) { last = Date.now(); progress(); }
        },
      });
      done = this.#decoder.decodeRemote(src, {
        fd: file.fh.fd, digest: desc.digest, onWritten: (n) => file.wrote(n), signal,
        ...(applied && ahead ? { extract: { dir: applied.dir, lowers: ahead.lowers } } : {}),
      }).then(({ diffId, size }) => {
        file.wrote(size);
        current = desc.size;
        progress();
        status(emit, id, "Verifying Checksum");
        status(emit, id, "Download complete");
        file.finish(diffId);
      }, (err: unknown) => {
        file.fail(err as Error);
        throw signal.aborted ? cancelled() : err;
      });
    } else {
      const fetched = fetchBlob(repo, desc.digest, { ...fetchOpts, onData: (n) => {
        current += n;
        if (Date.now() - last >= 150) { last = Date.now(); progress(); }
      } });
      done = this.#decodeHere(fetched, file, desc.mediaType, signal, () => {
        progress();
        status(emit, id, "Verifying Checksum");
        status(emit, id, "Download complete");
      });
    }
    done.catch(() => {});
    return { file, done, ...(applied ? { applied } : {}) };
  }

  /** Layers that are not gzip (zstd, plain, ...): decompressed here, fetchBlob verifying the digest. */
  #decodeHere(fetched: Readable, file: SpoolFile, mediaType: string, signal: AbortSignal, complete: () => void): Promise<void> {
    // The fetch settles on its own: a clean end means every byte verified.
    const verdict = finished(fetched);
    verdict.catch(() => {});
    const decoded = decompressLayer(fetched, mediaType);
    return pipeline(decoded, file.writable()).then(async () => {
      await verdict;
      complete();
      file.finish();
    }).catch(async (err: unknown) => {
      // Undecompressable bytes are most often corrupt ones: finish the download to say which.
      if (isKind(err, "invalid-argument") && !signal.aborted && !fetched.destroyed && !fetched.readableEnded) {
        fetched.unpipe();
        fetched.resume();
        err = await verdict.then(() => err, (e: unknown) => (isKind(e, "data-loss") ? e : err));
      }
      fetched.destroy();
      file.fail(err as Error);
      throw signal.aborted ? cancelled() : err;
    });
  }

  // ---- push ----------------------------------------------------------------------------------

  push(ref: string, opts: PushOptions = {}): AsyncIterable<JsonMessage> {
    return this.#run((emit) => this.#push(ref, opts, emit));
  }

  async #push(refStr: string, opts: PushOptions, emit: Emit): Promise<void> {
    const parsed = parseReference(refStr);
    if (parsed.digest !== null) throw invalidArgument("cannot push a digest reference");
    const r: ImageReference = { ...parsed, tag: opts.tag || parsed.tag };
    const name = referenceName(r);
    let tags: string[];
    if (r.tag !== null) {
      tags = [r.tag];
      if (!this.#images.store.lookupRef(formatReference(r))) throw notFound(`An image does not exist locally with the tag: ${familiarString({ ...r, tag: null })}`);
    } else {
      tags = this.#images.store.allRefs().map(([ref]) => parseReference(ref))
        .filter((x) => referenceName(x) === name && x.tag !== null && x.digest === null).map((x) => x.tag!).sort();
      if (tags.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarString(r)}`);
    }
    emit({ status: `The push refers to repository [${name}]` });
    const endpoint = registryEndpoints(r.domain, this.#config, { push: true }).at(-1)!;
    const client = this.#client(endpoint, this.#credentials(opts.auth));
    const repo = new RemoteRepository(client, r.path);
    for (const tag of tags) await this.#pushTag(repo, endpoint, { ...r, tag }, emit, opts.signal);
  }

  async #pushTag(repo: RemoteRepository, ep: RegistryEndpoint, r: ImageReference, emit: Emit, signal?: AbortSignal): Promise<void> {
    const { id, config } = await this.#images.imageConfig(formatReference(r));
    const configBytes = await this.#content.readBytes(id as Digest);
    const diffIds = [...new Set(config.rootfs.diff_ids)];
    for (const d of diffIds) status(emit, shortId(d), "Preparing");
    const limit = Math.max(1, this.#config.maxConcurrentUploads ?? 5);
    for (const d of diffIds.slice(limit)) status(emit, shortId(d), "Waiting");
    const sources = await this.#layerSources();
    const pushed = new Map<string, Descriptor>();
    try {
      await mapLimit(diffIds, limit, async (diffId) => {
        pushed.set(diffId, await this.#pushLayer(repo, ep, sources, diffId, emit, signal));
      });
    } catch (err) {
      if (err instanceof RegistryError && (err.status === 401 || err.status === 403)) {
        throw new EngineError(err.kind, err.status === 401 ? "unauthorized: authentication required" : `denied: requested access to the resource is denied`);
      }
      throw err;
    }
    if ((await repo.statBlob(id, signal)) === null) await repo.putBlob(id, configBytes, signal);
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, size: configBytes.length, digest: id },
      layers: config.rootfs.diff_ids.map((d) => pushed.get(d)!),
    };
    const bytes = Buffer.from(JSON.stringify(manifest, null, 3));
    const digest = await repo.putManifest(r.tag!, bytes, MediaType.dockerManifest, signal);
    emit({ status: `${r.tag}: digest: ${digest} size: ${bytes.length}` });
    await this.#images.emit("push", familiarString(r), familiarString(r));
    emit({ progressDetail: {}, aux: { Tag: r.tag, Digest: digest, Size: bytes.length } });
    await this.#images.store.update((tx) => { tx.setRef(formatReference({ ...r, tag: null, digest }), id); }).catch((err) => {
      this.#logger.warn("recording the pushed digest", { err });
    });
  }

  async #pushLayer(repo: RemoteRepository, ep: RegistryEndpoint, sources: LayerSources, diffId: string, emit: Emit, signal?: AbortSignal): Promise<Descriptor> {
    const id = shortId(diffId);
    const known = sources.get(diffId).filter((s) => s.registry === ep.host);
    const record = (d: Descriptor) => sources.add(diffId, { digest: d.digest, size: d.size, mediaType: d.mediaType, registry: ep.host, repo: repo.name }).catch(() => {});
    const gzipType = MediaType.dockerLayerGzip;
    for (const s of known.filter((k) => k.repo === repo.name)) {
      const size = await repo.statBlob(s.digest, signal);
      if (size !== null) {
        status(emit, id, "Layer already exists");
        return { mediaType: dockerType(s.mediaType), size: s.size, digest: s.digest };
      }
    }
    let location: string | null = null;
    for (const s of known.filter((k) => k.repo !== repo.name).slice(0, 3)) {
      try {
        const m = await repo.mountBlob(s.digest, s.repo, signal);
        if (m.mounted) {
          status(emit, id, `Mounted from ${s.repo}`);
          const d = { mediaType: dockerType(s.mediaType), size: s.size, digest: s.digest };
          await record(d);
          return d;
        }
        if (location) await repo.cancelUpload(location);
        location = m.location;
      } catch (err) {
        if (err instanceof RegistryError && (err.status === 401 || err.status === 403)) continue;
        throw err;
      }
    }
    const total = (await this.#content.info(diffId as Digest)).size;
    location ??= await repo.startUpload(signal);
    const counter = new ProgressCounter(emit, id, "Pushing", total);
    const gzip = new AdaptiveGzip(this.#config.compressionLevel ?? zlibConstants.Z_BEST_SPEED);
    const digester = new DigestStream();
    const body = new PassThrough({ highWaterMark: 1 << 20 });
    const src = this.#content.reader(diffId as Digest);
    const producing = pipeline(src, counter, gzip, digester, body);
    producing.catch(() => {});
    try {
      location = await repo.patchStream(location, body, signal);
      await producing;
      const digest = digester.digest();
      await repo.finishUpload(location, digest, undefined, signal);
      status(emit, id, "Pushed");
      const d: Descriptor = { mediaType: gzipType, size: digester.bytes, digest };
      await record(d);
      return d;
    } catch (err) {
      src.destroy();
      body.destroy();
      if (location) await repo.cancelUpload(location);
      throw err;
    }
  }
}

const sharedDecoder = new LayerDecoder();

const GZIP_TYPES = new Set<string>([MediaType.layerGzip, MediaType.dockerLayerGzip,
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"]);

/**
 * gzip in large steps (zlib's 16 KiB default output step costs a third of the speed), on the threadpool;
 * anything else sniffed. A gzip data error leaves `src` unpiped but alive, so the caller can still drain it
 * to learn whether the bytes were corrupt; src's own errors fail the output.
 */
function decompressLayer(src: Readable, mediaType: string): Readable {
  if (!GZIP_TYPES.has(mediaType)) return decompressStream(src);
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const fail = (e: NodeJS.ErrnoException) => {
    out.destroy(e.code?.startsWith("Z_") ? invalidArgument(`gzip: invalid compressed data: ${e.message}`, { cause: e }) : e);
  };
  src.on("error", fail);
  gunzip.on("error", (e) => { src.unpipe(gunzip); fail(e); });
  src.pipe(gunzip).pipe(out);
  out.once("close", () => { if (!gunzip.destroyed) gunzip.destroy(); });
  return out;
}

function dockerType(mediaType: string): string {
  if (mediaType === MediaType.layerGzip) return MediaType.dockerLayerGzip;
  if (mediaType === MediaType.layer) return MediaType.dockerLayer;
  return mediaType;
}

