import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
import { string } from "../../flags.js";
import { CLIENT_API_VERSION, compareVersions } from "../../../client/transport.js";
import { describeError } from "../../describe-error.js";
import type { SystemVersion } from "../../../client/types.js";
import { compileChecked, executeChecked } from "../../output/list-format.js";
import { readFile } from "node:fs/promises";

const ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL("../../../../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function aligned(indent: string, rows: [string, string | undefined][], width: number): string[] {
  return rows.filter(([, v]) => v !== undefined).map(([k, v]) => `${indent}${(k + ":").padEnd(width)}${v}`);
}

export const version: Command = {
  name: "version",
  summary: "Show the Berth version information",
  usage: "[OPTIONS]",
  maxArgs: 0,
  flags: { format: string("f", "Format output using a custom template") },
  async run({ client, flags, out }) {
    const clientInfo = {
      Version: await packageVersion(),
      ApiVersion: CLIENT_API_VERSION,
      DefaultAPIVersion: CLIENT_API_VERSION,
      NodeVersion: process.version,
      Os: process.platform,
      Arch: ARCH[process.arch] ?? process.arch,
      Context: "default",
    };
    let server: SystemVersion | undefined;
    let error: unknown;
    try {
      server = await client.system.version();
      clientInfo.ApiVersion = await client.transport.apiVersion();
    } catch (err) {
      error = err;
    }
    const format = flags.string("format");
    if (format) {
      const t = compileChecked(format);
      out.line(executeChecked(t, { Client: clientInfo, Server: server ?? null }));
    } else {
      const apiLine = compareVersions(clientInfo.ApiVersion, CLIENT_API_VERSION) < 0 ? `${clientInfo.ApiVersion} (downgraded from ${CLIENT_API_VERSION})` : clientInfo.ApiVersion;
      const lines = ["Client:", ...aligned(" ", [
        ["Version", clientInfo.Version], ["API version", apiLine], ["Node version", clientInfo.NodeVersion],
        ["OS/Arch", `${clientInfo.Os}/${clientInfo.Arch}`], ["Context", clientInfo.Context],
      ], 19)];
      if (server) {
        lines.push("", `Server:${server.Platform?.Name ? ` ${server.Platform.Name}` : ""}`);
        const components = server.Components?.length ? server.Components : [{ Name: "Engine", Version: server.Version, Details: {} as Record<string, string> }];
        for (const c of components) {
          lines.push(` ${c.Name}:`);
          if (c.Name === "Engine") {
            lines.push(...aligned("  ", [
              ["Version", server.Version],
              ["API version", `${server.ApiVersion}${server.MinAPIVersion ? ` (minimum version ${server.MinAPIVersion})` : ""}`],
              ["Go version", server.GoVersion || undefined],
              ["Git commit", server.GitCommit || undefined],
              ["Built", server.BuildTime || undefined],
              ["OS/Arch", `${server.Os}/${server.Arch}`],
              ["Experimental", String(Boolean(server.Experimental))],
            ], 18));
          } else {
            lines.push(...aligned("  ", [["Version", c.Version], ...Object.entries(c.Details ?? {}).map(([k, v]) => [k, v] as [string, string])], 18));
          }
        }
      }
      out.line(lines.join("\n"));
    }
    if (error) throw new StatusError(describeError(error), 1);
  },
};
