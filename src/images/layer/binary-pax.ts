import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const XATTR = "SCHILY.xattr.";

interface PaxModule {
  encodePax(opts: { name?: string; linkname?: string | null; pax?: Record<string, string> | null }): Uint8Array;
  decodePax(buf: Uint8Array): Record<string, string>;
  __berthBinaryPax?: boolean;
}

/**
 * tar-stream decodes and encodes PAX records as UTF-8, which corrupts binary xattr values such as
 * security.capability. Patch its header codec so SCHILY.xattr.* values are latin1 strings (one char per byte);
 * every other record stays UTF-8. Use xattrValue()/xattrString() to convert.
 */
export function installBinaryPax(): void {
  const require = createRequire(import.meta.url);
  const headers = require(join(dirname(require.resolve("tar-stream")), "headers.js")) as PaxModule;
  if (headers.__berthBinaryPax) return;
  headers.__berthBinaryPax = true;
  headers.decodePax = (buf: Uint8Array): Record<string, string> => {
    const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    const out: Record<string, string> = {};
    let off = 0;
    while (off < b.length) {
      const sp = b.indexOf(0x20, off);
      if (sp < 0) break;
      const len = parseInt(b.toString("latin1", off, sp), 10);
      if (!len || off + len > b.length) break;
      const rec = b.subarray(sp + 1, off + len - 1);
      const eq = rec.indexOf(0x3d);
      if (eq < 0) break;
      const key = rec.toString("utf8", 0, eq);
      out[key] = rec.toString(key.startsWith(XATTR) ? "latin1" : "utf8", eq + 1);
      off += len;
    }
    return out;
  };
  headers.encodePax = (opts): Uint8Array => {
    const recs: Buffer[] = [];
    const add = (key: string, value: Buffer) => {
      const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from("\n")]);
      let digits = String(body.length).length;
      if (body.length + digits >= 10 ** digits) digits++;
      recs.push(Buffer.from(String(body.length + digits)), body);
    };
    if (opts.name) add("path", Buffer.from(opts.name));
    if (opts.linkname) add("linkpath", Buffer.from(opts.linkname));
    for (const [k, v] of Object.entries(opts.pax ?? {})) add(k, Buffer.from(v, k.startsWith(XATTR) ? "latin1" : "utf8"));
    return Buffer.concat(recs);
  };
}

export const xattrValue = (s: string): Buffer => Buffer.from(s, "latin1");
export const xattrString = (b: Buffer): string => b.toString("latin1");
export { XATTR as PAX_XATTR_PREFIX };
