import type { Command } from "../../command.js";
import { StatusError } from "../../command.js";
import { float, int, string } from "../../flags.js";
import type { HostConfig } from "../../../spec/engine.js";
import { parseRestartPolicy } from "../../container-options.js";
import { ramInBytes } from "../../output/parse-units.js";
import { describeError } from "../../describe-error.js";
import { invalidArgument } from "../../../errdefs/index.js";

export const update: Command = {
  name: "container update",
  summary: "Update configuration of one or more containers",
  usage: "[OPTIONS] CONTAINER [CONTAINER...]",
  minArgs: 1,
  flags: {
    "blkio-weight": int("", "Block IO (relative weight), between 10 and 1000, or 0 to disable"),
    "cpu-period": int("", "Limit CPU CFS (Completely Fair Scheduler) period"),
    "cpu-quota": int("", "Limit CPU CFS (Completely Fair Scheduler) quota"),
    "cpu-shares": int("c", "CPU shares (relative weight)"),
    cpus: float("", "Number of CPUs", { valueName: "decimal" }),
    "cpuset-cpus": string("", "CPUs in which to allow execution (0-3, 0,1)"),
    "cpuset-mems": string("", "MEMs in which to allow execution (0-3, 0,1)"),
    memory: string("m", "Memory limit", { valueName: "bytes" }),
    "memory-reservation": string("", "Memory soft limit", { valueName: "bytes" }),
    "memory-swap": string("", "Swap limit equal to memory plus swap: -1 to enable unlimited swap", { valueName: "bytes" }),
    "pids-limit": int("", "Tune container pids limit (set -1 for unlimited)"),
    restart: string("", "Restart policy to apply when a container exits"),
  },
  async run({ client, args, flags, out }) {
    const body: Partial<HostConfig> = {};
    const c = (n: string) => flags.changed(n);
    if (c("blkio-weight")) body.BlkioWeight = flags.int("blkio-weight");
    if (c("cpu-period")) body.CpuPeriod = flags.int("cpu-period");
    if (c("cpu-quota")) body.CpuQuota = flags.int("cpu-quota");
    if (c("cpu-shares")) body.CpuShares = flags.int("cpu-shares");
    if (c("cpus")) body.NanoCpus = Math.round(flags.float("cpus") * 1e9);
    if (c("cpuset-cpus")) body.CpusetCpus = flags.string("cpuset-cpus");
    if (c("cpuset-mems")) body.CpusetMems = flags.string("cpuset-mems");
    if (c("memory")) body.Memory = ramInBytes(flags.string("memory"));
    if (c("memory-reservation")) body.MemoryReservation = ramInBytes(flags.string("memory-reservation"));
    if (c("memory-swap")) body.MemorySwap = flags.string("memory-swap") === "-1" ? -1 : ramInBytes(flags.string("memory-swap"));
    if (c("pids-limit")) body.PidsLimit = flags.int("pids-limit");
    if (c("restart")) body.RestartPolicy = parseRestartPolicy(flags.string("restart"));
    if (!Object.keys(body).length) throw invalidArgument("you must provide one or more flags when using this command");
    const errors: string[] = [];
    for (const id of args) {
      try {
        const r = await client.containers.update(id, body);
        for (const w of r?.Warnings ?? []) out.errorLine(w);
        out.line(id);
      } catch (err) {
        errors.push(describeError(err));
      }
    }
    if (errors.length) throw new StatusError(errors.join("\n"), 1);
  },
};
