import { PassThrough, type Readable } from "node:stream";
import tar from "tar-stream";

/**
 * A tar stream without the entries `drop` names (streamed entry by entry, nothing buffered). Used to keep the
 * mountpoint placeholders the runtime creates (/etc/hostname, ...) out of a committed layer, as Docker's init
 * layer does.
 */
export function dropEntries(src: Readable, drop: (name: string) => boolean): Readable {
  const extract = tar.extract();
  const pack = tar.pack();
  const out = new PassThrough();
  const fail = (err: Error) => { out.destroy(err); src.destroy(); };
  extract.on("entry", (header, stream, next) => {
    const name = header.name.replace(/^\.?\//, "").replace(/\/$/, "");
    if (drop(name)) {
      stream.on("end", () => next());
      stream.resume();
      return;
    }
    const sink = pack.entry(header, (err) => (err ? fail(err) : next()));
    stream.pipe(sink);
  });
  extract.on("finish", () => pack.finalize());
  extract.on("error", fail);
  src.on("error", fail);
  pack.on("error", fail);
  src.pipe(extract);
  pack.pipe(out);
  return out;
}

export const ENGINE_PLACEHOLDERS = new Set(["etc/hostname", "etc/hosts", "etc/resolv.conf", "sbin/docker-init"]);
