/** Just enough of RFC 1035 for an authoritative-for-containers resolver: one question, A answers. */
export interface DnsQuestion { id: number; flags: number; name: string; type: number; cls: number; rd: boolean; questionBytes: Buffer }

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const RCODE_NOERROR = 0;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_REFUSED = 5;

export function parseQuery(msg: Buffer): DnsQuestion | null {
  if (msg.length < 12) return null;
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return null;                    // a response, not a query
  if (msg.readUInt16BE(4) !== 1) return null;         // exactly one question
  let off = 12;
  const labels: string[] = [];
  for (;;) {
    if (off >= msg.length) return null;
    const len = msg[off]!;
    if (len === 0) { off++; break; }
    if (len & 0xc0) return null;                      // no compression in questions
    if (off + 1 + len > msg.length) return null;
    labels.push(msg.toString("latin1", off + 1, off + 1 + len));
    off += 1 + len;
  }
  if (off + 4 > msg.length) return null;
  const type = msg.readUInt16BE(off);
  const cls = msg.readUInt16BE(off + 2);
  return { id, flags, name: labels.join(".").toLowerCase(), type, cls, rd: !!(flags & 0x0100), questionBytes: msg.subarray(12, off + 4) };
}

/** A response echoing the question, with A records (pointer to the question name) and the given rcode. */
export function buildResponse(q: DnsQuestion, rcode: number, addresses: string[], ttl = 600): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  // QR, AA, RD copied, RA set: the answer is ours and we act as the containers' recursive resolver.
  header.writeUInt16BE(0x8000 | 0x0400 | (q.flags & 0x0100) | 0x0080 | (rcode & 0xf), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const answers = addresses.map((ip) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(TYPE_A, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(ttl, 6);
    rr.writeUInt16BE(4, 10);
    ip.split(".").forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
    return rr;
  });
  return Buffer.concat([header, q.questionBytes, ...answers]);
}
