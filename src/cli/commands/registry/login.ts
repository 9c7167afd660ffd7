import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
import { bool, string } from "../../flags.js";

export const login: Command = {
  name: "login",
  summary: "Authenticate to a registry",
  usage: "[OPTIONS] [SERVER]",
  maxArgs: 1,
  flags: {
    password: string("p", "Password or Personal Access Token (PAT)"),
    "password-stdin": bool("", "Take the Password or Personal Access Token (PAT) from stdin"),
    username: string("u", "Username"),
  },
  async run() {
    throw new StatusError("berth login: not implemented yet (registry authentication comes with the registries work)", 1);
  },
};
