import { MediaType, type Descriptor } from "../spec/oci-image.js";
import { isSha256 } from "./names.js";
import { ociError } from "./oci-error.js";

export const MANIFEST_TYPES = [MediaType.manifest, MediaType.dockerManifest] as const;
export const INDEX_TYPES = [MediaType.index, MediaType.dockerManifestList] as const;

/** What a stored manifest refers to, kept beside it so listing and GC need not re-parse. */
export interface ManifestInfo {
  mediaType: string;
  blobs: string[];            // config and layers (must be in the repository)
  manifests: string[];        // index children (must be in the repository)
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

function descriptors(v: unknown, what: string): Descriptor[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw ociError("MANIFEST_INVALID", `${what} must be an array`);
  return v.map((d) => descriptor(d, what));
}

function descriptor(d: unknown, what: string): Descriptor {
  const x = d as Descriptor;
  if (!x || typeof x !== "object" || typeof x.mediaType !== "string" || typeof x.digest !== "string"
    || typeof x.size !== "number" || !Number.isSafeInteger(x.size) || x.size < 0) {
    throw ociError("MANIFEST_INVALID", `invalid descriptor in ${what}`);
  }
  if (!isSha256(x.digest)) throw ociError("MANIFEST_INVALID", `unsupported digest ${JSON.stringify(x.digest)} in ${what}`);
  return x;
}

/** Validate a manifest body as its Content-Type (or own mediaType) says and list what it references. */
export function parseManifest(body: Buffer, contentType: string | undefined): ManifestInfo {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
  } catch {
    throw ociError("MANIFEST_INVALID", "manifest is not valid JSON");
  }
  if (!m || typeof m !== "object" || Array.isArray(m)) throw ociError("MANIFEST_INVALID", "manifest must be a JSON object");
  if (m.schemaVersion !== 2) throw ociError("MANIFEST_INVALID", "unsupported manifest schemaVersion (only 2 is accepted)");
  const ct = contentType?.split(";")[0]!.trim().toLowerCase();
  const own = typeof m.mediaType === "string" ? m.mediaType : undefined;
  let mediaType = own ?? (ct && ct !== "application/json" && ct !== "application/octet-stream" ? ct : undefined);
  if (!mediaType) mediaType = "manifests" in m ? MediaType.index : MediaType.manifest;
  if (own && ct && ct !== own && ct !== "application/json" && ct !== "application/octet-stream") {
    throw ociError("MANIFEST_INVALID", `manifest mediaType ${own} does not match Content-Type ${ct}`);
  }
  const info: ManifestInfo = { mediaType, blobs: [], manifests: [] };
  if ((MANIFEST_TYPES as readonly string[]).includes(mediaType)) {
    const config = descriptor(m.config, "config");
    const layers = descriptors(m.layers, "layers");
    if (mediaType === MediaType.dockerManifest && m.layers === undefined) throw ociError("MANIFEST_INVALID", "manifest has no layers");
    info.blobs = [config.digest, ...layers.filter((l) => !l.urls?.length).map((l) => l.digest)];
    info.artifactType = typeof m.artifactType === "string" ? m.artifactType : config.mediaType;
  } else if ((INDEX_TYPES as readonly string[]).includes(mediaType)) {
    info.manifests = descriptors(m.manifests ?? [], "manifests").map((d) => d.digest);
    if (typeof m.artifactType === "string") info.artifactType = m.artifactType;
  } else {
    throw ociError("MANIFEST_INVALID", `unsupported manifest media type ${mediaType}`);
  }
  if (m.subject !== undefined) info.subject = descriptor(m.subject, "subject");
  if (m.annotations && typeof m.annotations === "object") info.annotations = m.annotations as Record<string, string>;
  return info;
}
