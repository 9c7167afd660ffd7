import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { systemError } from "../../errdefs/index.js";

export type Xattrs = Map<string, Buffer>;

/** getfattr/setfattr quoting: every byte outside printable ASCII, and the backslash, as \ooo. */
function quote(path: string): string {
  let out = "";
  for (const byte of Buffer.from(path)) {
    if (byte > 0x20 && byte < 0x7f && byte !== 0x5c) out += String.fromCharCode(byte);
    else out += "\\" + byte.toString(8).padStart(3, "0");
  }
  return out;
}

function unquote(s: string): string {
  if (!s.includes("\\")) return s;
  const bytes: number[] = [];
  const raw = Buffer.from(s, "utf8");
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x5c && i + 3 < raw.length + 0 && /^[0-7]{3}$/.test(raw.toString("latin1", i + 1, i + 4))) {
      bytes.push(parseInt(raw.toString("latin1", i + 1, i + 4), 8));
      i += 3;
    } else if (raw[i] === 0x5c && raw[i + 1] === 0x5c) {
      bytes.push(0x5c);
      i++;
    } else bytes.push(raw[i]!);
  }
  return Buffer.from(bytes).toString("utf8");
}

function missingTool(tool: string, err: NodeJS.ErrnoException): Error {
  if (err.code === "ENOENT") return systemError(`${tool} not found: install the "attr" package`, { cause: err });
  return err;
}

/**
 * Every extended attribute under `root` (root included), one getfattr spawn for the whole tree.
 * Keys are absolute host paths; only entries that carry attributes appear.
 */
export async function readXattrsTree(root: string, opts: { recursive?: boolean } = {}): Promise<Map<string, Xattrs>> {
  const args = ["-d", "-m", "-", "-e", "hex", "-h", "--absolute-names"];
  if (opts.recursive !== false) args.push("-R", "-P");
  args.push("--", root);
  const child = spawn("getfattr", args, { stdio: ["ignore", "pipe", "pipe"] });
  const result = new Map<string, Xattrs>();
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => { if (stderr.length < 4096) stderr += d; });
  const exited = new Promise<number>((resolve, reject) => {
    child.once("error", (e) => reject(missingTool("getfattr", e as NodeJS.ErrnoException)));
    child.once("close", (code) => resolve(code ?? 1));
  });
  let current: Xattrs | null = null;
  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    if (line.startsWith("# file: ")) {
      current = new Map();
      result.set(unquote(line.slice(8)), current);
    } else if (current && line) {
      const eq = line.indexOf("=");
      if (eq < 0) continue;
      const v = line.slice(eq + 1);
      current.set(line.slice(0, eq), v.startsWith("0x") ? Buffer.from(v.slice(2), "hex") : v.startsWith("0s") ? Buffer.from(v.slice(2), "base64") : Buffer.from(v.replace(/^"|"$/g, "")));
    }
  }
  const code = await exited;
  // getfattr exits 1 when some file vanished or cannot carry xattrs; what it printed is still right.
  if (code !== 0 && result.size === 0 && stderr && !/No such file|Operation not supported/.test(stderr)) {
    throw systemError(`getfattr ${root}: ${stderr.trim()}`);
  }
  return result;
}

/** Set xattrs on many paths (not following symlinks) with one setfattr spawn. */
export async function writeXattrs(entries: Iterable<[string, Xattrs]>): Promise<void> {
  let script = "";
  for (const [path, attrs] of entries) {
    if (attrs.size === 0) continue;
    script += `# file: ${quote(path)}\n`;
    for (const [name, value] of attrs) script += `${name}=0x${value.toString("hex")}\n`;
    script += "\n";
  }
  if (!script) return;
  const child = spawn("setfattr", ["-h", "--restore=-"], { stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => { if (stderr.length < 4096) stderr += d; });
  const exited = new Promise<number>((resolve, reject) => {
    child.once("error", (e) => reject(missingTool("setfattr", e as NodeJS.ErrnoException)));
    child.once("close", (code) => resolve(code ?? 1));
  });
  child.stdin.on("error", () => {});
  child.stdin.end(script);
  const code = await exited;
  if (code !== 0) throw systemError(`setting extended attributes failed: ${stderr.trim()}`);
}
