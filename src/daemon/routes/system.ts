import type { DiskUsageType, SystemService } from "../../services/system-service.js";
import type { ApiResponse } from "../api-response.js";
import { parseUnixTime } from "./containers.js";
import type { Route } from "../route.js";

const DF_TYPES: readonly DiskUsageType[] = ["container", "image", "volume", "build-cache"];

function ping(res: ApiResponse): void {
  res
    .header("Builder-Version", "1")
    .header("Swarm", "inactive")
    .header("Cache-Control", "no-cache, no-store, must-revalidate")
    .header("Pragma", "no-cache")
    .text("OK", 200);
}

export function systemRoutes(system: SystemService): Route[] {
  return [
    { method: "GET", path: "/_ping", handle: (_req, res) => ping(res) },
    { method: "HEAD", path: "/_ping", handle: (_req, res) => ping(res) },
    {
      method: "GET", path: "/version",
      async handle(_req, res) {
        res.json(await system.version());
      },
    },
    {
      method: "GET", path: "/info",
      async handle(_req, res) {
        res.json(await system.info());
      },
    },
    {
      method: "GET", path: "/system/df",
      async handle(req, res) {
        const types = req.query.all("type").filter((t): t is DiskUsageType => DF_TYPES.includes(t as DiskUsageType));
        res.json(await system.df(types));
      },
    },
    {
      // No event source exists yet: hold the stream open (honouring until) so `docker events` works and shows nothing.
      method: "GET", path: "/events",
      async handle(req, res) {
        req.query.filters();
        const until = parseUnixTime(req.query.get("until"), "until");
        const out = res.stream("application/json");
        await new Promise<void>((resolve) => {
          const timer = until !== undefined ? setTimeout(resolve, Math.max(0, until * 1000 - Date.now())) : undefined;
          req.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve();
          }, { once: true });
        });
        if (!out.writableEnded) out.end();
      },
    },
  ];
}
