/**
 * Polls check until it returns something other than undefined, null or false, and returns that; fails after timeoutMs
 * with what it was waiting for and what it last saw. For asynchronous state (a probe, a restart, a log line) that a slow
 * or loaded machine reaches late: wait for it with a deadline instead of sleeping a fixed time and hoping.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: { timeoutMs?: number; intervalMs?: number; seen?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${opts.seen ? `; last seen: ${opts.seen()}` : ""}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
