import type { Command } from "../../command.js";
import { bool, string } from "../../flags.js";

const VALUED: [flag: string, summary: string][] = [
  ["root", "Directory holding the registry's blobs and repositories"],
  ["addr", "Address to listen on (HOST:PORT; port 0 picks a free one)"],
  ["tls-cert", "TLS certificate (PEM)"],
  ["tls-key", "TLS private key (PEM)"],
  ["htpasswd", "htpasswd file (bcrypt) for Basic authentication"],
  ["token-realm", "Token server URL for bearer token authentication"],
  ["token-service", "Service name expected in tokens"],
  ["token-issuer", "Issuer expected in tokens"],
  ["token-key", "Token server's certificate or public key (PEM)"],
  ["gc-interval", "Seconds between background garbage collections (0 disables)"],
];

/** `berth registry serve`: an OCI Distribution registry in this process, until SIGINT/SIGTERM. */
export const serve: Command = {
  name: "registry serve",
  summary: "Serve an OCI registry",
  usage: "--root DIR [OPTIONS]",
  maxArgs: 0,
  flags: {
    ...Object.fromEntries(VALUED.map(([f, s]) => [f, string("", s, f === "addr" ? { default: "127.0.0.1:5000" } : {})])),
    "read-only": bool("", "Refuse pushes and deletes"),
    delete: bool("", "Allow deleting manifests and blobs"),
  },
  async run({ flags }) {
    const argv = ["serve"];
    for (const [f] of VALUED) if (flags.changed(f) || f === "addr") argv.push(`--${f}`, flags.string(f));
    if (flags.bool("read-only")) argv.push("--read-only");
    if (flags.bool("delete")) argv.push("--delete");
    // The registry is its own process; this command only starts it.
    const { registryMain } = await import("../../../registry/index.js");
    await registryMain(argv);
  },
};
