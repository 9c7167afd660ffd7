import { notFound, notImplemented } from "../../errdefs/index.js";
import type { HttpMethod, Route } from "../route.js";

/** Endpoints of features still to come answer 501 honestly instead of pretending. */
const PENDING: [HttpMethod[], string, string][] = [
  [["GET", "POST", "DELETE"], "/networks", "networks"],
  [["POST", "DELETE"], "/networks/:id", "networks"],
  [["POST"], "/networks/create", "networks"],
  [["POST"], "/networks/:id/connect", "networks"],
  [["POST"], "/networks/:id/disconnect", "networks"],
  [["POST"], "/volumes/create", "volumes"],
  [["DELETE", "PUT"], "/volumes/:name", "volumes"],
  [["GET"], "/containers/:id/attach/ws", "websocket attach"],
  [["POST"], "/build/cancel", "image builds"],
  [["POST"], "/session", "BuildKit sessions"],
  [["GET"], "/distribution/:name+/json", "registry access"],
  [["GET"], "/plugins", "plugins"],
  [["GET"], "/swarm", "swarm mode"],
  [["POST"], "/swarm/init", "swarm mode"],
  [["POST"], "/swarm/join", "swarm mode"],
  [["GET"], "/nodes", "swarm mode"],
  [["GET"], "/services", "swarm mode"],
  [["GET"], "/tasks", "swarm mode"],
  [["GET"], "/secrets", "swarm mode"],
  [["GET"], "/configs", "swarm mode"],
];

/** `have`: features whose real routes are mounted, so their placeholders stay out. */
export function unimplementedRoutes(have: { networks?: boolean; volumes?: boolean } = {}): Route[] {
  return PENDING.filter(([, , feature]) => !(have.networks && feature === "networks") && !(have.volumes && feature === "volumes")).flatMap(([methods, path, feature]) =>
    methods.map((method): Route => ({
      method, path,
      handle() {
        throw notImplemented(`not implemented in Berth yet: ${feature}`);
      },
    })),
  );
}

/**
 * Object stores Berth does not have yet hold nothing, so lookups are truthfully empty: no volumes
 * to list or prune, no user networks to prune, and no network, volume or plugin of any name (`docker inspect x` probes each kind in turn and needs
 * a not-found, not a 501, to reach "No such object").
 */
export function emptyStoreRoutes(have: { networks?: boolean; volumes?: boolean } = {}): Route[] {
  const routes: Route[] = [
    { method: "GET", path: "/volumes", handle: (_req, res) => res.json({ Volumes: [], Warnings: [] }) },
    { method: "GET", path: "/volumes/:name", handle: (req) => { throw notFound(`get ${req.params.name}: no such volume`); } },
    { method: "GET", path: "/networks/:id", handle: (req) => { throw notFound(`network ${req.params.id} not found`); } },
    { method: "GET", path: "/plugins/:name+/json", handle: (req) => { throw notFound(`plugin "${req.params.name}" not found`); } },
    // `docker system prune` prunes every kind; with no store there is nothing to delete.
    { method: "POST", path: "/volumes/prune", handle: (_req, res) => res.json({ VolumesDeleted: null, SpaceReclaimed: 0 }) },
    { method: "POST", path: "/networks/prune", handle: (_req, res) => res.json({ NetworksDeleted: null }) },
  ];
  return routes.filter((r) => !(have.networks && r.path.startsWith("/networks")) && !(have.volumes && r.path.startsWith("/volumes")));
}
