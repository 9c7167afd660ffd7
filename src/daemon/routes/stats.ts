import type { StatsSampler, StatsTarget } from "../../containers/stats-sampler.js";
import type { ContainersService } from "../../services/types.js";
import { isCancelled } from "../error-status.js";
import type { Route } from "../route.js";

export function statsRoutes(stats: StatsSampler): Route[] {
  return [
    {
      method: "GET", path: "/containers/:id/stats",
      async handle(req, res) {
        const id = req.params.id!;
        const streamRaw = req.query.get("stream");
        const stream = streamRaw === undefined || streamRaw === "" ? true : req.query.bool("stream");
        if (req.query.bool("one-shot") && !stream) {
          res.json(await stats.oneShot(id));
          return;
        }
        if (!stream) {
          res.json(await stats.once(id));
          return;
        }
        const it = stats.stream(id, req.signal)[Symbol.asyncIterator]();
        // The first reading decides 404 versus 200 before any header goes out.
        const first = await it.next();
        const out = res.stream("application/json");
        try {
          for (let r = first; !r.done; r = await it.next()) {
            if (out.destroyed || out.writableEnded) break;
            out.write(JSON.stringify(r.value) + "\n");
          }
        } catch (err) {
          if (!(req.signal.aborted || isCancelled(err))) throw err;
        } finally {
          await it.return?.();
          if (!out.writableEnded) out.end();
        }
      },
    },
  ];
}

/** How the sampler finds a container's cgroup and pid (not-found for a removed container). */
export function statsTargetOf(containers: ContainersService): (ref: string) => Promise<StatsTarget> {
  return async (ref) => {
    const c = await containers.inspect(ref);
    return {
      id: c.Id, name: c.Name, cgroupsPath: `${c.HostConfig.CgroupParent || "/berth"}/${c.Id}`, pid: c.State.Pid,
      running: c.State.Status === "running" || c.State.Status === "paused",
    };
  };
}
