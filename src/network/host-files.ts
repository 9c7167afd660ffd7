import { rename, unlink, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { invalidArgument } from "../errdefs/index.js";

/**
 * Replace a generated per-container file (hosts, hostname, resolv.conf) atomically but without fsync:
 * it is regenerated on every attach, so a crash can only lose a file that is rewritten anyway.
 */
export async function writeGenerated(path: string, data: string): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(tmp, data, { mode: 0o644 });
  await rename(tmp, path).catch(async (err: unknown) => { await unlink(tmp).catch(() => {}); throw err; });
}

/** Docker's MAC for an IPv4 endpoint: 02:42 and the four address bytes, so it is known before the interface exists. */
export function macOf(ip: string): string {
  return ["02", "42", ...ip.split(".").map((o) => Number(o).toString(16).padStart(2, "0"))].join(":");
}

/** /etc/hosts as Docker writes it: the defaults, the --add-host entries, then the container's own addresses. */
export function renderHosts(opts: { own: { ip: string; names: string[] }[]; extraHosts: { host: string; ip: string }[] }): string {
  const lines = [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::\tip6-localnet",
    "ff00::\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
  ];
  for (const e of opts.extraHosts) lines.push(`${e.ip}\t${e.host}`);
  for (const o of opts.own) if (o.names.length) lines.push(`${o.ip}\t${o.names.join(" ")}`);
  return lines.join("\n") + "\n";
}

export function renderResolvConf(opts: { nameservers: string[]; search: string[]; options: string[]; comment?: string }): string {
  const lines: string[] = [];
  if (opts.comment) lines.push(`# ${opts.comment}`);
  for (const ns of opts.nameservers) lines.push(`nameserver ${ns}`);
  if (opts.search.length) lines.push(`search ${opts.search.join(" ")}`);
  if (opts.options.length) lines.push(`options ${opts.options.join(" ")}`);
  return lines.join("\n") + "\n";
}

/** Nameservers, search and options of a resolv.conf, without the loopback servers a container cannot reach. */
export function parseResolvConf(text: string): { nameservers: string[]; search: string[]; options: string[] } {
  const out = { nameservers: [] as string[], search: [] as string[], options: [] as string[] };
  for (const raw of text.split("\n")) {
    const f = raw.replace(/[#;].*$/, "").trim().split(/\s+/);
    if (f[0] === "nameserver" && f[1] && !/^127\.|^::1$/.test(f[1])) out.nameservers.push(f[1]);
    else if ((f[0] === "search" || f[0] === "domain") && f.length > 1) out.search = f.slice(1);
    else if (f[0] === "options" && f.length > 1) out.options.push(...f.slice(1));
  }
  return out;
}

/** "name:ip" or "name=ip" (--add-host), with host-gateway resolved. */
export function parseExtraHost(spec: string, hostGateway: string): { host: string; ip: string } {
  const i = spec.search(/[:=]/);
  if (i <= 0) throw invalidArgument(`invalid argument "${spec}" for "--add-host" flag: bad format for add-host: "${spec}"`);
  const host = spec.slice(0, i);
  let ip = spec.slice(i + 1);
  if (ip === "host-gateway") ip = hostGateway;
  return { host, ip };
}
