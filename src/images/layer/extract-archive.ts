import { lstat } from "node:fs/promises";
import type { Readable } from "node:stream";
import tar from "tar-stream";
import { invalidArgument, notFound } from "../../errdefs/index.js";
import { runPipeline } from "./apply-layer.js";
import { installBinaryPax } from "./binary-pax.js";
import { decompressStream } from "./decompress-stream.js";
import { resolveInRoot } from "./resolve-in-root.js";
import { TreeWriter, type PaxHeaders } from "./tree-writer.js";

installBinaryPax();

/**
 * docker cp into a container (PUT /archive): extract a tar (plain or compressed) into dirInRoot, every path
 * resolved inside rootDir as if it were "/". No whiteout processing; device nodes only with allowDevices.
 * With copyUIDGID and owner, every entry is owned by owner (Docker: the container's user); otherwise the
 * archive's uid/gid are kept.
 */
export async function extractArchive(
  src: Readable,
  rootDir: string,
  dirInRoot: string,
  opts: {
    noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean; owner?: { uid: number; gid: number };
    allowDevices?: boolean; signal?: AbortSignal;
  } = {},
): Promise<void> {
  const dest = await resolveInRoot(rootDir, dirInRoot);
  const st = await lstat(dest).catch(() => null);
  if (!st) throw notFound(`Could not find the file ${dirInRoot} in container`);
  if (!st.isDirectory()) throw invalidArgument(`extraction point is not a directory`);
  const writer = new TreeWriter({
    mode: "archive", root: rootDir, dirInRoot,
    noOverwriteDirNonDir: opts.noOverwriteDirNonDir ?? false,
    allowDevices: opts.allowDevices ?? false,
    ...(opts.copyUIDGID && opts.owner ? { owner: opts.owner } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const ex = tar.extract();
  ex.on("entry", (hdr, stream, next) => {
    writer.entry(hdr as PaxHeaders, stream as unknown as AsyncIterable<Buffer>).then(() => next(), (err: Error) => {
      stream.resume();
      next(err);
    });
  });
  await runPipeline(decompressStream(src), null, ex, opts.signal);
  await writer.finish();
}
