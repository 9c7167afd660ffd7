import { notImplemented } from "../../errdefs/index.js";
import { decodeRegistryAuth } from "../../spec/registry-auth.js";
import type { AuthConfig, DistributionService } from "../../services/distribution-service.js";
import type { Route } from "../route.js";

/** Registry login (POST /auth) and GET /distribution/{name}/json. Without a distribution service they answer 501. */
export function distributionRoutes(dist?: DistributionService): Route[] {
  return [
    {
      method: "POST", path: "/auth",
      async handle(req, res) {
        if (!dist) throw notImplemented("not implemented in Berth yet: registry login");
        const auth = (await req.json<AuthConfig>()) ?? {};
        const r = await dist.login(auth);
        // dockerd omits an empty IdentityToken
        res.json({ Status: r.Status, ...(r.IdentityToken ? { IdentityToken: r.IdentityToken } : {}) });
      },
    },
    {
      method: "GET", path: "/distribution/:name+/json",
      async handle(req, res) {
        if (!dist) throw notImplemented("not implemented in Berth yet: distribution inspect");
        const h = req.headers["x-registry-auth"];
        const auth = decodeRegistryAuth(Array.isArray(h) ? h[0] : h);
        res.json(await dist.inspect(req.params.name!, { signal: req.signal, ...(auth ? { auth } : {}) }));
      },
    },
  ];
}
