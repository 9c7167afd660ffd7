import type { ContainerConfig } from "../../spec/engine.js";
import type { HistoryEntry, ImageConfig } from "../../spec/oci-image.js";
import { cacheKey, type StepInputs } from "./build-cache.js";

/** A --cache-from image: its history entries that carry a step comment can stand in for build steps. */
export interface CacheSource {
  ref: string;
  id: string;
  config: ImageConfig;
}

const PREFIX = "berth.build.v1 ";

/**
 * The history comment a build step writes: its cache key without the parent image id. Image ids
 * change when an image is saved, loaded or rebuilt elsewhere; the parent's identity is checked
 * instead by its layers and history being a prefix of the cache source's.
 */
export function stepComment(inputs: StepInputs): string {
  // 128 bits: enough to tell steps apart (the parent is matched structurally), short in `docker history`.
  return `${PREFIX}${cacheKey({ ...inputs, parent: "" }).slice(0, 32)}`;
}

/**
 * Docker's cache-from rule, with Berth's step keys: the source's diff ids and history start with the
 * parent's, and its next history entry was written by a step with the same key. The entry and the
 * layer it added (null for a metadata-only step), or null when the source does not match.
 */
export function matchCacheSource(parent: ImageConfig | null, src: ImageConfig, comment: string): { entry: HistoryEntry; diffId: string | null } | null {
  const ph = parent?.history ?? [];
  const pd = parent?.rootfs.diff_ids ?? [];
  const sh = src.history ?? [];
  const sd = src.rootfs?.diff_ids ?? [];
  if (sh.length <= ph.length || sd.length < pd.length) return null;
  for (let i = 0; i < pd.length; i++) if (pd[i] !== sd[i]) return null;
  for (let i = 0; i < ph.length; i++) if (!sameEntry(ph[i]!, sh[i]!)) return null;
  const entry = sh[ph.length]!;
  if (entry.comment !== comment) return null;
  if (entry.empty_layer) return { entry, diffId: null };
  // The layer this entry added is the next diff id after the parent's.
  const diffId = sd[pd.length];
  return diffId === undefined ? null : { entry, diffId };
}

function sameEntry(a: HistoryEntry, b: HistoryEntry): boolean {
  return (a.created_by ?? "") === (b.created_by ?? "") && !!a.empty_layer === !!b.empty_layer && (a.comment ?? "") === (b.comment ?? "");
}

/** The config of the image a cache-from hit restores: the parent plus the matched entry and layer, with the step's config. */
export function restoredImageConfig(
  parent: ImageConfig | null, src: ImageConfig, hit: { entry: HistoryEntry; diffId: string | null }, config: ContainerConfig,
): ImageConfig {
  const cfg: ImageConfig = {
    architecture: parent?.architecture ?? src.architecture,
    ...(hit.entry.author ? { author: hit.entry.author } : {}),
    config,
    created: hit.entry.created ?? src.created ?? new Date(0).toISOString(),
    history: [...(parent?.history ?? []), hit.entry],
    os: parent?.os ?? src.os,
    rootfs: { type: "layers", diff_ids: [...(parent?.rootfs.diff_ids ?? []), ...(hit.diffId ? [hit.diffId] : [])] },
  };
  const variant = parent?.variant ?? src.variant;
  if (variant) cfg.variant = variant;
  return cfg;
}
