import type { PathStat } from "../services/types.js";

const S_IFMT = 0o170000;
const GO_MODE = { dir: 2 ** 31, symlink: 2 ** 27, device: 2 ** 26, namedPipe: 2 ** 25, socket: 2 ** 24, setuid: 2 ** 23, setgid: 2 ** 22, charDevice: 2 ** 21, sticky: 2 ** 20 };

/**
 * The wire carries Go's os.FileMode (type bits high, permissions low), which the docker CLI's cp
 * decodes with IsDir(); a Unix st_mode (type bits in 0o170000) is converted, a FileMode passes through.
 */
export function toGoFileMode(mode: number): number {
  const type = mode & S_IFMT;
  if (type === 0) return mode;
  let out = mode & 0o777;
  if (mode & 0o4000) out += GO_MODE.setuid;
  if (mode & 0o2000) out += GO_MODE.setgid;
  if (mode & 0o1000) out += GO_MODE.sticky;
  switch (type) {
    case 0o040000: out += GO_MODE.dir; break;
    case 0o120000: out += GO_MODE.symlink; break;
    case 0o060000: out += GO_MODE.device; break;
    case 0o020000: out += GO_MODE.device + GO_MODE.charDevice; break;
    case 0o010000: out += GO_MODE.namedPipe; break;
    case 0o140000: out += GO_MODE.socket; break;
  }
  return out;
}

/** The X-Docker-Container-Path-Stat header value: base64 of {name,size,mode,mtime,linkTarget}. */
export function encodePathStat(st: PathStat): string {
  const body = { name: st.name, size: st.size, mode: toGoFileMode(st.mode), mtime: st.mtime, linkTarget: st.linkTarget };
  return Buffer.from(JSON.stringify(body)).toString("base64");
}
