import type { Command } from "../../command.js";
import { string } from "../../flags.js";
import type { SystemInfo } from "../../../client/types.js";
import { compileChecked, executeChecked } from "../../output/list-format.js";
import { bytesSize } from "../../output/units.js";

export function renderInfo(i: SystemInfo): string {
  const l: string[] = [];
  const kv = (indent: string, k: string, v: unknown) => { if (v !== undefined && v !== null && v !== "") l.push(`${indent}${k}: ${String(v)}`); };
  l.push("Server:");
  kv(" ", "Containers", i.Containers ?? 0);
  kv("  ", "Running", i.ContainersRunning ?? 0);
  kv("  ", "Paused", i.ContainersPaused ?? 0);
  kv("  ", "Stopped", i.ContainersStopped ?? 0);
  kv(" ", "Images", i.Images ?? 0);
  kv(" ", "Server Version", i.ServerVersion);
  kv(" ", "Storage Driver", i.Driver);
  for (const [k, v] of i.DriverStatus ?? []) kv("  ", k, v);
  kv(" ", "Logging Driver", i.LoggingDriver);
  kv(" ", "Cgroup Driver", i.CgroupDriver);
  kv(" ", "Cgroup Version", i.CgroupVersion);
  if (i.Runtimes) kv(" ", "Runtimes", Object.keys(i.Runtimes).sort().join(" "));
  kv(" ", "Default Runtime", i.DefaultRuntime);
  kv(" ", "Init Binary", i.InitBinary);
  if (i.SecurityOptions?.length) {
    l.push(" Security Options:");
    for (const opt of i.SecurityOptions) {
      const parts = opt.split(",").map((p) => p.split("="));
      const name = parts.find(([k]) => k === "name")?.[1] ?? opt;
      l.push(`  ${name}`);
      for (const [k, v] of parts) if (k !== "name" && v !== undefined) l.push(`   ${k![0]!.toUpperCase()}${k!.slice(1)}: ${v}`);
    }
  }
  kv(" ", "Kernel Version", i.KernelVersion);
  kv(" ", "Operating System", i.OperatingSystem);
  kv(" ", "OSType", i.OSType);
  kv(" ", "Architecture", i.Architecture);
  kv(" ", "CPUs", i.NCPU);
  if (typeof i.MemTotal === "number") kv(" ", "Total Memory", bytesSize(i.MemTotal));
  kv(" ", "Name", i.Name);
  kv(" ", "ID", i.ID);
  kv(" ", "Docker Root Dir", i.DockerRootDir);
  kv(" ", "Debug Mode", Boolean(i.Debug));
  kv(" ", "Experimental", Boolean(i.ExperimentalBuild));
  kv(" ", "Live Restore Enabled", Boolean(i.LiveRestoreEnabled));
  if (i.Labels?.length) { l.push(" Labels:"); for (const x of i.Labels) l.push(`  ${x}`); }
  for (const w of i.Warnings ?? []) l.push(w);
  return l.join("\n") + "\n";
}

export const info: Command = {
  name: "system info",
  summary: "Display system-wide information",
  usage: "[OPTIONS]",
  maxArgs: 0,
  flags: { format: string("f", "Format output using a custom template") },
  async run({ client, flags, out }) {
    const i = await client.system.info();
    const format = flags.string("format");
    if (format) {
      out.line(executeChecked(compileChecked(format === "json" ? "{{json .}}" : format), i));
      return;
    }
    out.write(`Client:\n Context:    default\n Debug Mode: false\n\n`);
    out.write(renderInfo(i));
  },
};
