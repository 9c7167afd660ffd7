/** Building the config of a new image on a parent (import, commit, build steps). Pure. */
import type { ContainerConfig } from "../spec/engine.js";
import type { HistoryEntry, ImageConfig } from "../spec/oci-image.js";

const ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

/** The host platform in Go naming. */
export function hostArchitecture(): string {
  return ARCH[process.arch] ?? process.arch;
}

export interface NewImageOptions {
  diffId: string | null;        // the new layer, or null for a metadata-only step
  config: ContainerConfig;
  created: string;
  createdBy?: string;
  comment?: string;
  /** A comment on the new history entry only (the image's own comment stays unset). */
  historyComment?: string;
  author?: string;
}

export function newImageConfig(parent: ImageConfig | null, o: NewImageOptions): ImageConfig {
  const history: HistoryEntry[] = [...(parent?.history ?? [])];
  const entry: HistoryEntry = { created: o.created };
  if (o.author) entry.author = o.author;
  if (o.createdBy) entry.created_by = o.createdBy;
  if (o.historyComment ?? o.comment) entry.comment = o.historyComment ?? o.comment;
  if (o.diffId === null) entry.empty_layer = true;
  history.push(entry);
  const cfg: ImageConfig = {
    architecture: parent?.architecture ?? hostArchitecture(),
    ...(o.author ? { author: o.author } : {}),
    ...(o.comment ? { comment: o.comment } : {}),
    config: o.config,
    created: o.created,
    history,
    os: parent?.os ?? "linux",
    rootfs: { type: "layers", diff_ids: [...(parent?.rootfs.diff_ids ?? []), ...(o.diffId ? [o.diffId] : [])] },
  };
  if (parent?.variant) cfg.variant = parent.variant;
  return cfg;
}
