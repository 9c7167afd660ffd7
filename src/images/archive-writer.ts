/**
 * docker save: one tar that is both an OCI image layout and a Docker "v1.2" archive
 * (oci-layout, index.json, manifest.json, repositories, blobs/sha256/*), see
 * shared/reference/docker-image-archive-formats.md. Layer blobs stream from the content store.
 */
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";
import type { ContentStore } from "../content/index.js";
import { cancelled } from "../errdefs/index.js";
import { Annotation, MediaType, type Descriptor, type DockerArchiveManifestEntry, type ImageConfig, type ImageIndex, type ImageManifest } from "../spec/oci-image.js";
import { familiarName, familiarString, formatReference, type ImageReference } from "../spec/reference.js";
import { hexOf, sha256, type Digest } from "../util/index.js";

export interface ArchiveImage {
  id: string;
  config: ImageConfig;
  repoTags: ImageReference[];
}

export async function writeDockerArchive(content: ContentStore, images: ArchiveImage[], out: Writable, signal?: AbortSignal): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, out);
  const onAbort = () => pack.destroy(cancelled());
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const epoch = new Date(0);
    const meta = images.length === 1 && images[0]!.config.created ? new Date(images[0]!.config.created) : epoch;
    await addBytes(pack, "oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }), meta);
    await addDir(pack, "blobs/", meta);
    await addDir(pack, "blobs/sha256/", meta);

    const written = new Set<string>();
    const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.index, manifests: [] };
    const manifestJson: DockerArchiveManifestEntry[] = [];
    const repositories: Record<string, Record<string, string>> = {};

    for (const img of images) {
      const mtime = img.config.created ? new Date(img.config.created) : epoch;
      const layers: Descriptor[] = [];
      for (const diffId of img.config.rootfs.diff_ids) {
        const { size } = await content.info(diffId as Digest);
        layers.push({ mediaType: MediaType.layer, digest: diffId, size });
        if (written.has(diffId)) continue;
        await addStream(pack, blobPath(diffId), size, content.reader(diffId as Digest), mtime);
        written.add(diffId);
      }
      const configBytes = await content.readBytes(img.id as Digest);
      if (!written.has(img.id)) {
        await addBytes(pack, blobPath(img.id), configBytes, mtime);
        written.add(img.id);
      }
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MediaType.manifest,
        config: { mediaType: MediaType.config, digest: img.id, size: configBytes.length },
        layers,
      };
      const manifestBytes = Buffer.from(JSON.stringify(manifest));
      const manifestDigest = sha256(manifestBytes);
      if (!written.has(manifestDigest)) {
        await addBytes(pack, blobPath(manifestDigest), manifestBytes, mtime);
        written.add(manifestDigest);
      }
      const desc: Descriptor = { mediaType: MediaType.manifest, digest: manifestDigest, size: manifestBytes.length };
      if (img.repoTags.length === 0) index.manifests.push(desc);
      for (const t of img.repoTags) {
        index.manifests.push({ ...desc, annotations: { [Annotation.containerdImageName]: formatReference(t), [Annotation.refName]: t.tag ?? "latest" } });
        const top = img.config.rootfs.diff_ids[img.config.rootfs.diff_ids.length - 1];
        if (top && t.tag) (repositories[familiarName(t)] ??= {})[t.tag] = hexOf(top as Digest);
      }
      manifestJson.push({
        Config: blobPath(img.id),
        RepoTags: img.repoTags.length > 0 ? img.repoTags.map(familiarString) : null,
        Layers: img.config.rootfs.diff_ids.map(blobPath),
      });
    }
    await addBytes(pack, "index.json", JSON.stringify(index), meta);
    await addBytes(pack, "manifest.json", JSON.stringify(manifestJson), meta);
    if (Object.keys(repositories).length > 0) await addBytes(pack, "repositories", JSON.stringify(repositories), meta);
    pack.finalize();
    await done;
  } catch (err) {
    pack.destroy(err as Error);
    await done.catch(() => {});
    throw signal?.aborted ? cancelled() : err;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

function blobPath(digest: string): string {
  return `blobs/sha256/${hexOf(digest as Digest)}`;
}

function addBytes(pack: tar.Pack, name: string, data: string | Buffer, mtime: Date): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name, mode: 0o644, mtime, type: "file" }, typeof data === "string" ? Buffer.from(data) : data, (err) => (err ? reject(err) : resolve()));
  });
}

function addDir(pack: tar.Pack, name: string, mtime: Date): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name, mode: 0o755, mtime, type: "directory" }, (err) => (err ? reject(err) : resolve()));
  });
}

async function addStream(pack: tar.Pack, name: string, size: number, src: Readable, mtime: Date): Promise<void> {
  let entry!: Writable;
  const entryDone = new Promise<void>((resolve, reject) => {
    entry = pack.entry({ name, size, mode: 0o644, mtime, type: "file" }, (err) => (err ? reject(err) : resolve())) as unknown as Writable;
  });
  await Promise.all([pipeline(src, entry), entryDone]);
}
