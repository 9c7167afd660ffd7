/** Whether the first bytes of a stream (at least 262 for a plain tar) are a tar or a compressed stream Docker would unpack. */
export function isArchiveHead(b: Uint8Array): boolean {
  const at = (i: number, bytes: number[]) => bytes.every((v, j) => b[i + j] === v);
  if (at(0, [0x1f, 0x8b])) return true;                         // gzip
  if (at(0, [0x42, 0x5a, 0x68])) return true;                   // bzip2 "BZh"
  if (at(0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return true; // xz
  if (at(0, [0x28, 0xb5, 0x2f, 0xfd])) return true;             // zstd
  return b.length >= 262 && at(257, [0x75, 0x73, 0x74, 0x61, 0x72]); // "ustar"
}

/** How many leading bytes isArchiveHead wants to see. */
export const ARCHIVE_HEAD_BYTES = 512;
