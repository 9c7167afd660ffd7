/**
 * Runs build stages as their dependencies allow, at most `concurrency` at a time, in the given order
 * of preference. The first failure stops new starts, aborts the running ones through `abort` and is
 * rethrown once they have all ended (their own errors, usually cancellations, are dropped).
 */
export async function runStages(
  order: readonly number[], depsOf: (stage: number) => readonly number[], run: (stage: number) => Promise<void>,
  opts: { concurrency: number; abort: () => void },
): Promise<void> {
  const done = new Set<number>();
  const started = new Set<number>();
  const running = new Map<number, Promise<void>>();
  let failure: { err: unknown } | null = null;
  const inBuild = new Set(order);
  const ready = (s: number) => depsOf(s).every((d) => done.has(d) || !inBuild.has(d));
  for (;;) {
    if (!failure) {
      for (const s of order) {
        if (running.size >= opts.concurrency) break;
        if (started.has(s) || !ready(s)) continue;
        started.add(s);
        running.set(s, run(s).then(
          () => { done.add(s); },
          (err: unknown) => {
            if (!failure) {
              failure = { err };
              opts.abort();
            }
          },
        ).finally(() => { running.delete(s); }));
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  if (failure) throw (failure as { err: unknown }).err;
  const stuck = order.filter((s) => !done.has(s));
  if (stuck.length) throw new Error(`stages ${stuck.join(", ")} could not start: their dependencies never completed`);
}
