/** A push-driven AsyncIterable: producers push(), the consumer iterates; end() or fail() finishes it. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #waiting: (() => void) | null = null;
  #done = false;
  #error: unknown = null;

  push(item: T): void {
    if (this.#done) return;
    this.#items.push(item);
    this.#wake();
  }

  end(): void {
    this.#done = true;
    this.#wake();
  }

  fail(err: unknown): void {
    if (this.#done) return;
    this.#error = err ?? new Error("failed");
    this.#done = true;
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiting;
    this.#waiting = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.#items.length) {
        yield this.#items.shift()!;
        continue;
      }
      if (this.#done) {
        if (this.#error) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => { this.#waiting = resolve; });
    }
  }
}

/** Run fn over items with at most `limit` in flight; the first failure rejects (others keep running to completion). */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let firstErr: unknown = null;
  const worker = async () => {
    while (next < items.length && firstErr === null) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (err) {
        firstErr ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (firstErr !== null) throw firstErr;
  return out;
}
