/**
 * OCI image-spec shapes (see shared/reference/oci-image-spec-summary.md and oci-image-spec/*.json),
 * with the Docker schema-2 extras an engine reads and writes. Data only.
 */
import type { ContainerConfig } from "./engine.js";

export const MediaType = {
  descriptor: "application/vnd.oci.descriptor.v1+json",
  layoutHeader: "application/vnd.oci.layout.header.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar",
  layerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  layerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  empty: "application/vnd.oci.empty.v1+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

export const INDEX_MEDIA_TYPES: readonly string[] = [MediaType.index, MediaType.dockerManifestList];
export const MANIFEST_MEDIA_TYPES: readonly string[] = [MediaType.manifest, MediaType.dockerManifest];

/** Annotation keys used on index.json descriptors. */
export const Annotation = {
  refName: "org.opencontainers.image.ref.name",
  containerdImageName: "io.containerd.image.name",
  created: "org.opencontainers.image.created",
} as const;

export interface Platform {
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  artifactType?: string;
  platform?: Platform;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The image config blob. Docker's extras (comment, docker_version, container, ...) are kept as they come. */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
  config?: ContainerConfig;
  rootfs: { type: "layers"; diff_ids: string[] };
  history?: HistoryEntry[];
  comment?: string;
  docker_version?: string;
  container?: string;
  container_config?: ContainerConfig;
  [extra: string]: unknown;
}

/** oci-layout file */
export interface ImageLayoutHeader { imageLayoutVersion: string }

/** One entry of a docker-archive manifest.json. */
export interface DockerArchiveManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
  LayerSources?: Record<string, Descriptor>;
  Parent?: string;
}
