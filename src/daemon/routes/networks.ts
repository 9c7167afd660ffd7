import { invalidArgument } from "../../errdefs/index.js";
import type { NetworkCreateBody, NetworksService } from "../../services/networks-service.js";
import type { ContainersService } from "../../services/types.js";
import type { EndpointSettings } from "../../spec/engine.js";
import type { Route } from "../route.js";

interface ConnectBody { Container?: string; EndpointConfig?: EndpointSettings | null }
interface DisconnectBody { Container?: string; Force?: boolean }

/** /networks: Docker's network endpoints; container references resolve through the containers service. */
export function networkRoutes(networks: NetworksService, containers: ContainersService): Route[] {
  const containerId = async (ref: string | undefined) => {
    if (!ref) throw invalidArgument("container is required");
    return (await containers.inspect(ref)).Id;
  };
  return [
    {
      method: "GET", path: "/networks",
      async handle(req, res) {
        res.json(await networks.list({ filters: req.query.filters() }));
      },
    },
    {
      method: "POST", path: "/networks/create",
      async handle(req, res) {
        const body = await req.json<NetworkCreateBody>();
        if (!body || typeof body !== "object" || Array.isArray(body)) throw invalidArgument("network create: body must be an object");
        res.json(await networks.create(body), 201);
      },
    },
    {
      method: "POST", path: "/networks/prune",
      async handle(req, res) {
        res.json(await networks.prune({ filters: req.query.filters() }));
      },
    },
    {
      method: "GET", path: "/networks/:id",
      async handle(req, res) {
        res.json(await networks.inspect(req.params.id!));
      },
    },
    {
      method: "DELETE", path: "/networks/:id",
      async handle(req, res) {
        await networks.remove(req.params.id!);
        res.end(204);
      },
    },
    {
      method: "POST", path: "/networks/:id/connect",
      async handle(req, res) {
        const body = (await req.json<ConnectBody>()) ?? {};
        const ep = body.EndpointConfig ?? {};
        const ip = ep.IPAMConfig?.IPv4Address;
        await containers.connectNetwork(await containerId(body.Container), req.params.id!, { aliases: ep.Aliases ?? [], ...(ip ? { ip } : {}) });
        res.end(200);
      },
    },
    {
      method: "POST", path: "/networks/:id/disconnect",
      async handle(req, res) {
        const body = (await req.json<DisconnectBody>()) ?? {};
        await containers.disconnectNetwork(await containerId(body.Container), req.params.id!, { force: !!body.Force });
        res.end(200);
      },
    },
  ];
}
