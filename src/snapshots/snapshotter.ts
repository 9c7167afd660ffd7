/** A mount spec, containerd-style: the snapshotter returns these and mounts nothing. */
export interface Mount {
  type: string;            // "overlay" | "bind"
  source: string;          // "overlay" or a host path
  options: string[];       // e.g. ["lowerdir=/a:/b", "upperdir=/c", "workdir=/d"] or ["rbind", "ro"]
}

/** "view" is a read-only snapshot made by view(); it cannot be committed. */
export type SnapshotKind = "active" | "committed" | "view";

export interface SnapshotInfo {
  name: string;            // key for active snapshots, name for committed ones
  parent: string | null;
  kind: SnapshotKind;
  created: string;
  labels: Record<string, string>;
}

export interface SnapOptions {
  labels?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * Snapshotter over a layer chain. Committed snapshots are read-only layers named by their
 * chain id; active snapshots are writable (a container's upper layer, or a layer being unpacked).
 */
export interface Snapshotter {
  /** A writable snapshot on top of `parent` (a committed name or null). already-exists if key is taken; not-found if parent is missing. */
  prepare(key: string, parent: string | null, opts?: SnapOptions): Promise<Mount[]>;
  /** A read-only view of `parent`. */
  view(key: string, parent: string, opts?: SnapOptions): Promise<Mount[]>;
  /** Turn the active `key` into the committed `name`; the key is gone afterwards. */
  commit(name: string, key: string, opts?: SnapOptions): Promise<void>;
  /** The mounts for an existing active or view snapshot. */
  mounts(key: string): Promise<Mount[]>;
  /** Remove a snapshot. conflict while it has children. Idempotent for missing keys is NOT assumed: not-found. */
  remove(keyOrName: string): Promise<void>;
  stat(keyOrName: string): Promise<SnapshotInfo>;
  walk(): AsyncIterable<SnapshotInfo>;
  /** Host directory that holds the snapshot's own files (upper dir for active, the layer dir for committed). */
  dir(keyOrName: string): Promise<string>;
  /** Host directories of the parent chain, nearest parent first. */
  parentDirs(keyOrName: string): Promise<string[]>;
  /** Bytes used by the snapshot's own directory. */
  usage(keyOrName: string): Promise<{ size: number; inodes: number }>;
}
