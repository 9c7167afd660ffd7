import { notImplemented } from "../../errdefs/index.js";
import type { AuthConfig, DistributionService } from "../../services/distribution-service.js";
import type { Route } from "../route.js";

/** Registry login (POST /auth). Without a distribution service it answers 501. */
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
  ];
}
