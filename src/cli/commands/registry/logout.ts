import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";

export const logout: Command = {
  name: "logout",
  summary: "Log out from a registry",
  usage: "[SERVER]",
  maxArgs: 1,
  flags: {},
  async run() {
    throw new StatusError("berth logout: not implemented yet (registry authentication comes with the registries work)", 1);
  },
};
