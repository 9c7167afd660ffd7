export type { Mount, SnapOptions, SnapshotInfo, SnapshotKind, Snapshotter } from "./snapshotter.js";
export { OverlaySnapshotter } from "./overlay-snapshotter.js";
