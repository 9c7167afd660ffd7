import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { invalidArgument, notImplemented, systemError } from "../../errdefs/index.js";

type Kind = "gzip" | "zstd" | "xz" | "bzip2" | "plain";

const SNIFF = 6;

function sniff(b: Buffer): Kind {
  if (b[0] === 0x1f && b[1] === 0x8b) return "gzip";
  if (b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return "zstd";
  if (b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return "xz";
  if (b.toString("latin1", 0, 3) === "BZh") return "bzip2";
  return "plain";
}

const TOOLS: Record<"zstd" | "xz" | "bzip2", string> = { zstd: "zstd", xz: "xz", bzip2: "bzip2" };

function findTool(name: string): string | null {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    if (dir && existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return null;
}

/** Spawned decompressor as a Duplex-like pair: feed `input`, read the returned stream. */
function toolStream(kind: "zstd" | "xz" | "bzip2", input: Readable, out: PassThrough): void {
  const bin = findTool(TOOLS[kind]);
  if (!bin) {
    out.destroy(notImplemented(`${kind}-compressed data needs the "${TOOLS[kind]}" program, which is not installed`));
    input.destroy();
    return;
  }
  const child = spawn(bin, ["-d", "-c", "-q"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => { if (stderr.length < 2048) stderr += d; });
  let failed = false;
  const fail = (err: Error) => {
    if (failed) return;
    failed = true;
    if (child.exitCode === null) child.kill("SIGKILL");
    out.destroy(err);
  };
  child.once("error", (e) => fail(systemError(`${kind}: ${e.message}`, { cause: e })));
  pipeline(input, child.stdin).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") fail(e);
  });
  child.stdout.pipe(out, { end: false });
  child.once("close", (code) => {
    if (failed) return;
    if (code === 0) out.end();
    else fail(invalidArgument(`${kind}: invalid compressed data: ${stderr.trim() || `exit ${code}`}`));
  });
  out.once("close", () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    input.destroy();
  });
}

/**
 * Transparently decompress gzip (in process), zstd, xz and bzip2 (with their programs) by sniffing the magic
 * bytes; anything else passes through. Errors (including a missing program) surface on the returned stream.
 */
export function decompressStream(src: Readable): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  let head = Buffer.alloc(0);
  let decided = false;
  const decide = () => {
    decided = true;
    src.off("data", onData);
    src.off("end", onEnd);
    src.off("error", onErr);
    src.pause();
    const kind = sniff(head);
    // Re-emit the sniffed bytes before the remaining source.
    const joined = Readable.from((async function* () {
      if (head.length) yield head;
      for await (const c of src) yield c as Buffer;
    })(), { objectMode: false, highWaterMark: 1 << 20 });
    if (kind === "plain") {
      pipeline(joined, out).catch((e) => out.destroy(e));
    } else if (kind === "gzip") {
      const gunzip = createGunzip({ chunkSize: 1 << 16 });
      // Not piped through pipeline(): it would destroy `out` with zlib's raw error before we can classify it.
      pipeline(joined, gunzip).catch((e: NodeJS.ErrnoException) =>
        out.destroy(e.code?.startsWith("Z_") ? invalidArgument(`gzip: invalid compressed data: ${e.message}`, { cause: e }) : e));
      gunzip.pipe(out);
      out.once("close", () => gunzip.destroy());
    } else {
      toolStream(kind, joined, out);
    }
  };
  const onData = (c: Buffer) => {
    head = Buffer.concat([head, c]);
    if (head.length >= SNIFF) decide();
  };
  const onEnd = () => { if (!decided) decide(); };
  const onErr = (e: Error) => { if (!decided) out.destroy(e); };
  src.on("data", onData);
  src.once("end", onEnd);
  src.once("error", onErr);
  out.once("close", () => { if (!src.destroyed && !src.readableEnded) src.destroy(); });
  return out;
}
