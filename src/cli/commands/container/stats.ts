import type { Command } from "../../command.js";
import { bool, string } from "../../flags.js";
import type { BerthClient } from "../../../client/client.js";
import { jsonMessages } from "../../../client/json-messages.js";
import { renderList } from "../../output/list-format.js";
import { invalidEntry, STATS_HEADERS, STATS_TABLE, statsContext, statsEntry, type StatsEntry, type StatsJson } from "../../output/stats-context.js";
import { shortId } from "../../output/units.js";

const REDRAW_MS = 500;

export const stats: Command = {
  name: "container stats",
  summary: "Display a live stream of container(s) resource usage statistics",
  usage: "[OPTIONS] [CONTAINER...]",
  flags: {
    all: bool("a", "Show all containers (default shows just running)"),
    format: string("", "Format output using a custom template"),
    "no-stream": bool("", "Disable streaming stats and only pull the first result"),
    "no-trunc": bool("", "Do not truncate output"),
  },
  async run({ client, args, flags, out }) {
    const all = flags.bool("all");
    const render = (entries: StatsEntry[]) => renderList(entries.map((e) => statsContext(e, { trunc: !flags.bool("no-trunc") })), {
      format: flags.string("format"), defaultTable: STATS_TABLE, headers: STATS_HEADERS,
    });

    if (flags.bool("no-stream")) {
      const targets = args.length ? args : (await client.containers.list({ all })).map((c) => shortId(c.Id));
      const read = await Promise.allSettled(targets.map(async (t) => statsEntry(t, await readOnce(client, t))));
      const failed = read.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
      out.write(render(read.map((r) => (r as PromiseFulfilledResult<StatsEntry>).value)));
      return;
    }

    const ac = new AbortController();
    const rows = new Map<string, StatsEntry>();
    const watched = new Map<string, AbortController>();
    const unwatch = (container: string) => {
      watched.get(container)?.abort();
      watched.delete(container);
      rows.delete(container);
    };
    const watch = (container: string, explicit: boolean): Promise<void> => {
      if (watched.has(container)) return Promise.resolve();
      const mine = new AbortController();
      watched.set(container, mine);
      const signal = AbortSignal.any([ac.signal, mine.signal]);
      let first: (err?: unknown) => void = () => {};
      const ready = new Promise<void>((resolve, reject) => { first = (err) => (err ? reject(err) : resolve()); });
      void (async () => {
        try {
          const res = await client.containers.stats(container, { stream: true, signal });
          for await (const m of jsonMessages(res)) {
            if (signal.aborted) break;
            rows.set(container, statsEntry(container, m as unknown as StatsJson));
            first();
          }
          first();
        } catch (err) {
          first(err);
        }
        if (mine.signal.aborted) return;
        watched.delete(container);
        // A container named on the command line stays, as "--"; one found by listing goes with its stream.
        if (explicit) rows.set(container, invalidEntry(container, rows.get(container)));
        else rows.delete(container);
      })();
      return ready;
    };

    if (args.length) {
      const started = await Promise.allSettled(args.map((a) => watch(a, true)));
      const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) { ac.abort(); throw failed.reason; }
    } else {
      // Containers that start (or, with -a, are created) later join the table; removed ones leave it.
      void followEvents(client, all, ac.signal, (action, id) => {
        if (action === "start" || (all && action === "create")) void watch(shortId(id), false).catch(() => {});
        if (action === "destroy" || (!all && action === "die")) unwatch(shortId(id));
      });
      for (const c of await client.containers.list({ all })) void watch(shortId(c.Id), false).catch(() => {});
    }

    const draw = () => {
      const order = args.length ? args : [...rows.keys()];
      const entries = order.map((k) => rows.get(k)).filter((e): e is StatsEntry => !!e);
      // Home, each line cleared to its end, then the rest of the screen: redraws without flicker.
      const text = render(entries).replace(/\n/g, "\x1b[K\n");
      out.write(`\x1b[H${text}\x1b[J`);
    };
    out.write("\x1b[2J");
    await new Promise<void>((resolve) => {
      const timer = setInterval(draw, REDRAW_MS);
      const stop = () => { clearInterval(timer); ac.abort(); resolve(); };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      draw();
    });
  },
};

async function readOnce(client: BerthClient, container: string): Promise<StatsJson> {
  const res = await client.containers.stats(container, { stream: false });
  for await (const m of jsonMessages(res)) return m as unknown as StatsJson;
  return {};
}

async function followEvents(client: BerthClient, all: boolean, signal: AbortSignal, on: (action: string, id: string) => void): Promise<void> {
  try {
    const res = await client.system.events({ filters: { type: ["container"], event: all ? ["create", "start", "destroy"] : ["start", "die", "destroy"] }, signal });
    for await (const m of jsonMessages(res)) {
      const e = m as unknown as { Action?: string; Actor?: { ID?: string } };
      if (e.Action && e.Actor?.ID) on(e.Action, e.Actor.ID);
    }
  } catch { /* aborted, or the daemon went away: the table simply stops changing */ }
}
