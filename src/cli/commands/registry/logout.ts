import type { Command } from "../../command.js";
import { CredentialStore, dockerConfigPath, serverKey } from "../../credential-store.js";

export const logout: Command = {
  name: "logout",
  summary: "Log out from a registry",
  usage: "[SERVER]",
  maxArgs: 1,
  flags: {},
  async run({ args, out, env }) {
    const key = serverKey(args[0]);
    const store = new CredentialStore(dockerConfigPath(env));
    if (!(await store.erase(key))) {
      out.line(`Not logged in to ${key}`);
      return;
    }
    out.line(`Removing login credentials for ${key}`);
  },
};
