import { Readable } from "node:stream";
import tar, { type Header } from "tar-stream";
import { installBinaryPax } from "./binary-pax.js";

installBinaryPax();

export interface TestEntry {
  name: string;
  type?: Header["type"];
  body?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

/** Build a small tar in memory for unit tests (test fixtures only). */
export async function tarOf(entries: TestEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const parts: Buffer[] = [];
  const done = (async () => { for await (const c of pack as unknown as AsyncIterable<Buffer>) parts.push(c); })();
  for (const e of entries) {
    const body = typeof e.body === "string" ? Buffer.from(e.body) : e.body ?? Buffer.alloc(0);
    await new Promise<void>((res, rej) => pack.entry({
      mtime: new Date(1_600_000_000_000), mode: e.type === "directory" ? 0o755 : 0o644, ...e, type: e.type ?? "file",
    } as Header, body, (err) => (err ? rej(err) : res())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(parts);
}

export const streamOf = (b: Buffer): Readable => Readable.from([b]);
