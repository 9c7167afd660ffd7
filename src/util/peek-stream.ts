import { Readable } from "node:stream";

/**
 * Reads up to `n` leading bytes of `src` (fewer when it ends first) and gives them back with a stream
 * that yields everything, those bytes included, so a caller can sniff a stream without buffering it.
 */
export async function peekStream(src: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const chunks: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have < n) {
    const r = await it.next();
    if (r.done) { ended = true; break; }
    const b = typeof r.value === "string" ? Buffer.from(r.value) : r.value;
    chunks.push(b);
    have += b.length;
  }
  const head = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield typeof r.value === "string" ? Buffer.from(r.value) : r.value;
    }
  }
  const stream = Readable.from(all(), { objectMode: false });
  stream.once("close", () => { if (!src.destroyed && !src.readableEnded) src.destroy(); });
  return { head: head.subarray(0, Math.min(n, head.length)), stream };
}
