import { invalidArgument } from "../../errdefs/index.js";
import type { VolumeCreateBody, VolumesService } from "../../services/volumes-service.js";
import type { Route } from "../route.js";

/** /volumes: Docker's volume endpoints over the volumes service. */
export function volumeRoutes(volumes: VolumesService): Route[] {
  return [
    {
      method: "GET", path: "/volumes",
      async handle(req, res) {
        res.json(await volumes.list({ filters: req.query.filters() }));
      },
    },
    {
      method: "POST", path: "/volumes/create",
      async handle(req, res) {
        const body = (await req.json<VolumeCreateBody>()) ?? {};
        if (typeof body !== "object" || Array.isArray(body)) throw invalidArgument("volume create: body must be an object");
        res.json(await volumes.create(body), 201);
      },
    },
    {
      method: "POST", path: "/volumes/prune",
      async handle(req, res) {
        res.json(await volumes.prune({ filters: req.query.filters() }));
      },
    },
    {
      method: "GET", path: "/volumes/:name",
      async handle(req, res) {
        res.json(await volumes.inspect(req.params.name!));
      },
    },
    {
      method: "DELETE", path: "/volumes/:name",
      async handle(req, res) {
        await volumes.remove(req.params.name!, { force: req.query.bool("force") });
        res.end(204);
      },
    },
  ];
}
