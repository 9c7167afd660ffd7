export { applyLayer, layerExtract } from "./apply-layer.js";
export { decompressStream } from "./decompress-stream.js";
export { packDiff } from "./pack-diff.js";
export { listChanges } from "./list-changes.js";
export { packTree } from "./pack-tree.js";
export { extractArchive } from "./extract-archive.js";
export { resolveInRoot } from "./resolve-in-root.js";
export { cleanEntryName } from "./entry-name.js";
