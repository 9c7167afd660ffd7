/**
 * docker load: a docker-archive (current OCI-layout form or legacy <id>/layer.tar form) or a plain
 * OCI image layout, as one tar stream whose manifest may come last. Every file entry is spooled
 * into the content store as it passes (hashed in flight), then images are assembled and their
 * layers unpacked. The caller records the images; blobs this made are listed in opts.created so
 * the caller can collect them on failure.
 */
import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";
import { cancelled, dataLoss, invalidArgument } from "../errdefs/index.js";
import {
  Annotation, INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, type Descriptor, type DockerArchiveManifestEntry,
  type ImageConfig, type ImageIndex, type ImageManifest,
} from "../spec/oci-image.js";
import { parseTaggedReference, type ImageReference } from "../spec/reference.js";
import { DigestStream, type Digest } from "../util/index.js";
import { chainIdOf } from "./chain-id.js";
import { hostArchitecture } from "./image-config.js";
import { decompressStream } from "./layer/index.js";
import type { LeaseGroup } from "./leases.js";
import { unpackLayer, type UnpackDeps } from "./layer-unpacker.js";

export interface LoadedImage {
  id: string;
  tags: ImageReference[];
}

export interface ReadArchiveOptions {
  leases: LeaseGroup;
  /** Blobs created by this load are pushed here as they appear (for cleanup by the caller). */
  created: string[];
  /** Whether a layer is already unpacked and stored (the callee leases it). */
  layerPresent(chainId: string, diffId: string): Promise<boolean>;
  signal?: AbortSignal | undefined;
}

export interface ReadArchiveResult {
  images: LoadedImage[];
  spooledBlobs: string[];     // everything spooled from the archive (GC candidates once recorded)
}

const METADATA_FILES = new Set(["manifest.json", "index.json", "oci-layout", "repositories"]);
const METADATA_MAX = 16 << 20;

interface Spool {
  files: Map<string, { digest: Digest; size: number }>;
  links: Map<string, string>;
  meta: Map<string, Buffer>;
}

export async function readImageArchive(deps: UnpackDeps, src: Readable, opts: ReadArchiveOptions): Promise<ReadArchiveResult> {
  if (opts.signal?.aborted) throw cancelled();
  const spool = await spoolArchive(deps, src, opts);
  const spooledBlobs = [...new Set([...spool.files.values()].map((f) => f.digest))];
  const plans = spool.meta.has("manifest.json") ? await planDockerArchive(deps, spool) : await planOciLayout(deps, spool);
  const images: LoadedImage[] = [];
  for (const plan of plans) {
    let parent: string | null = null;
    for (const [i, layer] of plan.layers.entries()) {
      if (opts.signal?.aborted) throw cancelled();
      const chainId = chainIdOf(parent, layer.diffId);
      if (!(await opts.layerPresent(chainId, layer.diffId))) {
        const raw = deps.content.reader(layer.blob);
        const uncompressed = layer.blob === layer.diffId;
        const r = await unpackLayer(deps, uncompressed ? raw : await decompressStream(raw), {
          parentChain: parent, expectedDiffId: layer.diffId, storeBlob: !uncompressed, leases: opts.leases,
          label: `invalid diffID for layer ${i}`, signal: opts.signal,
        });
        if (r.createdBlob) opts.created.push(r.diffId);
      }
      parent = chainId;
    }
    images.push({ id: plan.configDigest, tags: plan.tags });
  }
  return { images, spooledBlobs };
}

async function spoolArchive(deps: UnpackDeps, src: Readable, opts: ReadArchiveOptions): Promise<Spool> {
  const spool: Spool = { files: new Map(), links: new Map(), meta: new Map() };
  const extract = tar.extract();
  const feeding = pipeline(src, extract);
  feeding.catch(() => {});
  const onAbort = () => extract.destroy(cancelled());
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const tag = randomBytes(6).toString("hex");
  let n = 0;
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const name = safePath(h.name);
      if (h.type === "symlink" || h.type === "link") {
        const target = h.type === "symlink" ? posix.join(posix.dirname(name), h.linkname ?? "") : h.linkname ?? "";
        spool.links.set(name, safePath(target));
        entry.resume();
        continue;
      }
      if ((h.type !== "file" && h.type !== "contiguous-file") || name === "") {
        entry.resume();
        continue;
      }
      if (METADATA_FILES.has(name)) {
        spool.meta.set(name, await readAll(entry as unknown as Readable, METADATA_MAX, name));
        continue;
      }
      if (/(^|\/)(VERSION|json)$/.test(name) && !name.startsWith("blobs/")) {
        entry.resume();   // legacy per-layer v1 metadata: informational only
        continue;
      }
      const writer = await deps.content.writer(`load-${tag}-${n++}`);
      const hasher = new DigestStream();
      try {
        await pipeline(entry, hasher, writer);
      } catch (err) {
        await writer.abort();
        throw err;
      }
      const digest = hasher.digest();
      const blobName = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
      if (blobName && `sha256:${blobName[1]}` !== digest) {
        await writer.abort();
        throw dataLoss(`invalid archive: digest mismatch for ${name}: got ${digest}`);
      }
      opts.leases.add(digest);
      if (await deps.content.has(digest)) {
        await writer.abort();
      } else {
        await writer.commit({ digest, size: hasher.bytes });
        opts.created.push(digest);
      }
      spool.files.set(name, { digest, size: hasher.bytes });
    }
    await feeding;
  } catch (err) {
    extract.destroy();
    src.destroy();
    throw opts.signal?.aborted ? cancelled() : err;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
  return spool;
}

/** Archive-relative path; anything that would leave the archive root is refused. */
function safePath(name: string): string {
  const norm = posix.normalize(name.replace(/^(\.\/)+/, ""));
  if (posix.isAbsolute(name) || norm === ".." || norm.startsWith("../")) {
    throw invalidArgument(`invalid archive: path ${JSON.stringify(name)} escapes the archive root`);
  }
  return norm === "." ? "" : norm.replace(/\/+$/, "");
}

async function readAll(s: Readable, max: number, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of s) {
    size += (c as Buffer).length;
    if (size > max) throw invalidArgument(`invalid archive: ${name} is too large`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function lookup(spool: Spool, path: string): { digest: Digest; size: number } {
  let p = safePath(path);
  for (let hops = 0; hops < 16; hops++) {
    const f = spool.files.get(p);
    if (f) return f;
    const next = spool.links.get(p);
    if (next === undefined) break;
    p = next;
  }
  throw invalidArgument(`invalid archive: missing file ${JSON.stringify(path)}`);
}

function parseJson<T>(buf: Buffer, what: string): T {
  try {
    return JSON.parse(buf.toString("utf8")) as T;
  } catch {
    throw invalidArgument(`invalid archive: cannot parse ${what}`);
  }
}

interface ImagePlan {
  configDigest: string;
  tags: ImageReference[];
  layers: { blob: Digest; diffId: string }[];
}

async function readConfig(deps: UnpackDeps, digest: Digest): Promise<ImageConfig> {
  const cfg = parseJson<ImageConfig>(await deps.content.readBytes(digest), `image config ${digest}`);
  if (!cfg || !cfg.rootfs || !Array.isArray(cfg.rootfs.diff_ids)) throw invalidArgument(`invalid archive: image config ${digest} has no rootfs`);
  if (cfg.os && cfg.os !== "linux") throw invalidArgument(`cannot load ${cfg.os} image on linux`);
  return cfg;
}

async function planDockerArchive(deps: UnpackDeps, spool: Spool): Promise<ImagePlan[]> {
  const entries = parseJson<DockerArchiveManifestEntry[] | null>(spool.meta.get("manifest.json")!, "manifest.json");
  if (!Array.isArray(entries)) throw invalidArgument("invalid archive: manifest.json is not a list");
  const plans: ImagePlan[] = [];
  for (const e of entries) {
    const config = lookup(spool, e.Config);
    const cfg = await readConfig(deps, config.digest);
    const layerPaths = e.Layers ?? [];
    if (layerPaths.length !== cfg.rootfs.diff_ids.length) throw invalidArgument("invalid manifest, layers length mismatch");
    plans.push({
      configDigest: config.digest,
      tags: (e.RepoTags ?? []).map((t) => parseTaggedReference(t)),
      layers: layerPaths.map((p, i) => ({ blob: lookup(spool, p).digest, diffId: cfg.rootfs.diff_ids[i]! })),
    });
  }
  return plans;
}

async function planOciLayout(deps: UnpackDeps, spool: Spool): Promise<ImagePlan[]> {
  const layout = spool.meta.get("oci-layout");
  const indexBytes = spool.meta.get("index.json");
  if (!indexBytes) throw invalidArgument("invalid archive: does not contain a manifest.json");
  if (layout && parseJson<{ imageLayoutVersion?: string }>(layout, "oci-layout").imageLayoutVersion !== "1.0.0") {
    throw invalidArgument("invalid archive: unsupported oci-layout version");
  }
  const index = parseJson<ImageIndex>(indexBytes, "index.json");
  const plans: ImagePlan[] = [];
  for (const desc of index.manifests ?? []) {
    const manifest = await resolveManifest(deps, spool, desc, 0);
    if (!manifest) continue;
    const config = blobOf(spool, manifest.config);
    const cfg = await readConfig(deps, config.digest);
    if (manifest.layers.length !== cfg.rootfs.diff_ids.length) throw invalidArgument("invalid manifest, layers length mismatch");
    const tags: ImageReference[] = [];
    const full = desc.annotations?.[Annotation.containerdImageName];
    const refName = desc.annotations?.[Annotation.refName];
    if (full) tags.push(parseTaggedReference(full));
    else if (refName && /[:/]/.test(refName)) tags.push(parseTaggedReference(refName));
    const existing = plans.find((p) => p.configDigest === config.digest);
    if (existing) {
      existing.tags.push(...tags);
      continue;
    }
    plans.push({
      configDigest: config.digest,
      tags,
      layers: manifest.layers.map((l, i) => ({ blob: blobOf(spool, l).digest, diffId: cfg.rootfs.diff_ids[i]! })),
    });
  }
  return plans;
}

function blobOf(spool: Spool, desc: Descriptor): { digest: Digest; size: number } {
  const m = /^sha256:([a-f0-9]{64})$/.exec(desc.digest ?? "");
  if (!m) throw invalidArgument(`invalid archive: unsupported digest ${JSON.stringify(desc.digest)}`);
  const blob = lookup(spool, `blobs/sha256/${m[1]}`);
  if (desc.size !== undefined && desc.size !== blob.size) {
    throw dataLoss(`invalid archive: size mismatch for ${desc.digest}: ${blob.size} != ${desc.size}`);
  }
  return blob;
}

/** An index picks the host platform's manifest (nested indexes followed); unknown media types are skipped. */
async function resolveManifest(deps: UnpackDeps, spool: Spool, desc: Descriptor, depth: number): Promise<ImageManifest | null> {
  if (depth > 4) throw invalidArgument("invalid archive: index nesting too deep");
  const bytes = await deps.content.readBytes(blobOf(spool, desc).digest);
  const doc = parseJson<ImageManifest & ImageIndex>(bytes, desc.digest);
  const type = doc.mediaType ?? desc.mediaType;
  if (INDEX_MEDIA_TYPES.includes(type) || (!type && Array.isArray(doc.manifests))) {
    const arch = hostArchitecture();
    const pick = doc.manifests.find((m) => m.platform?.os === "linux" && m.platform.architecture === arch)
      ?? doc.manifests.find((m) => !m.platform);
    return pick ? resolveManifest(deps, spool, pick, depth + 1) : null;
  }
  if (MANIFEST_MEDIA_TYPES.includes(type) || (!type && doc.config)) return doc;
  return null;
}
