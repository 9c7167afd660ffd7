import { spawn } from "node:child_process";
import { join } from "node:path";
import { systemError } from "../errdefs/index.js";

export const CNI_VERSION = "1.0.0";
export const DEFAULT_CNI_PATH = "/usr/lib/cni";

export interface CniRuntime { containerId: string; netns: string; ifName: string; args?: string; cniPath?: string }

export interface CniResult {
  cniVersion: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { interface?: number; address: string; gateway?: string }[];
  routes?: { dst: string; gw?: string }[];
}

/** Run one CNI plugin binary per the CNI spec: the command in env, the network config on stdin, a result on stdout. */
export function invokeCni(plugin: string, command: "ADD" | "DEL" | "CHECK", rt: CniRuntime, config: Record<string, unknown>): Promise<CniResult | null> {
  const cniPath = rt.cniPath ?? DEFAULT_CNI_PATH;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    CNI_COMMAND: command, CNI_CONTAINERID: rt.containerId, CNI_NETNS: rt.netns, CNI_IFNAME: rt.ifName,
    CNI_PATH: cniPath,
  };
  if (rt.args) env.CNI_ARGS = rt.args;
  const body = JSON.stringify({ cniVersion: CNI_VERSION, ...config });
  return new Promise((resolve, reject) => {
    const child = spawn(join(cniPath, plugin), [], { env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => { out += d; });
    child.stderr.setEncoding("utf8").on("data", (d: string) => { err += d; });
    child.on("error", (e) => reject(systemError(`CNI plugin ${plugin}: ${e.message}`, { cause: e })));
    child.on("close", (code) => {
      if (code !== 0) {
        let msg = err.trim() || `exit status ${code}`;
        try {
          const j = JSON.parse(out) as { msg?: string; details?: string };
          if (j.msg) msg = j.details ? `${j.msg}: ${j.details}` : j.msg;
        } catch { /* not JSON */ }
        reject(systemError(`CNI ${plugin} ${command}: ${msg}`));
        return;
      }
      if (command !== "ADD") { resolve(null); return; }
      try { resolve(JSON.parse(out) as CniResult); } catch { reject(systemError(`CNI ${plugin} ${command}: unparsable result`)); }
    });
    child.stdin.end(body);
  });
}
