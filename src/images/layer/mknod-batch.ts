import { spawn } from "node:child_process";
import { systemError } from "../../errdefs/index.js";

export interface NodeSpec {
  path: string;
  kind: "c" | "b" | "p";
  major?: number;
  minor?: number;
}

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Make device nodes and fifos with one shell spawn (Node has no mknod). Parents must exist; nothing may exist at path. */
export async function mknodBatch(nodes: NodeSpec[]): Promise<void> {
  if (nodes.length === 0) return;
  let script = "set -e\n";
  for (const n of nodes) {
    script += n.kind === "p"
      ? `mknod -m 0600 ${sq(n.path)} p\n`
      : `mknod -m 0600 ${sq(n.path)} ${n.kind} ${n.major ?? 0} ${n.minor ?? 0}\n`;
  }
  const child = spawn("/bin/sh", ["-s"], { stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => { if (stderr.length < 4096) stderr += d; });
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c) => resolve(c ?? 1));
    child.stdin.on("error", () => {});
    child.stdin.end(script);
  });
  if (code !== 0) throw systemError(`mknod failed: ${stderr.trim()}`);
}
