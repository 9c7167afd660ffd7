import { spawn } from "node:child_process";
import { execFileCapture } from "../sys/exec.js";
import { systemError } from "../errdefs/index.js";

export interface FirewallNetwork { bridge: string; subnet: string; internal: boolean }
export interface FirewallPort {
  proto: "tcp" | "udp" | "sctp";
  hostIp: string;              // "" or "0.0.0.0" for all addresses
  hostPort: number;
  containerIp: string;
  containerPort: number;
}
export interface FirewallState { networks: FirewallNetwork[]; ports: FirewallPort[] }

export interface ChainNames { forward: string; iso1: string; iso2: string; dnat: string; postrouting: string }

export function chainNames(prefix: string): ChainNames {
  return { forward: `${prefix}-FORWARD`, iso1: `${prefix}-ISOLATION-1`, iso2: `${prefix}-ISOLATION-2`, dnat: `${prefix}-DNAT`, postrouting: `${prefix}-POSTROUTING` };
}

/** The jumps from built-in chains into ours: [table, chain, rule args]. */
export function jumpRules(c: ChainNames): [string, string, string[]][] {
  return [
    ["filter", "FORWARD", ["-j", c.forward]],
    ["nat", "PREROUTING", ["-m", "addrtype", "--dst-type", "LOCAL", "-j", c.dnat]],
    ["nat", "OUTPUT", ["-m", "addrtype", "--dst-type", "LOCAL", "-j", c.dnat]],
    ["nat", "POSTROUTING", ["-j", c.postrouting]],
  ];
}

/**
 * The full content of our chains for iptables-restore --noflush. Declaring a chain flushes it, so
 * applying this is atomic and idempotent: a crash-restart re-applies it without duplicates.
 */
export function renderRules(c: ChainNames, s: FirewallState): string {
  const f: string[] = ["*filter", `:${c.forward} - [0:0]`, `:${c.iso1} - [0:0]`, `:${c.iso2} - [0:0]`];
  const bridges = s.networks.map((n) => n.bridge);
  for (const br of bridges) f.push(`-A ${c.forward} -o ${br} -m conntrack --ctstate DNAT -j ACCEPT`);
  if (bridges.length) f.push(`-A ${c.forward} -j ${c.iso1}`);
  for (const n of s.networks) {
    const br = n.bridge;
    f.push(`-A ${c.forward} -o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    f.push(`-A ${c.forward} -i ${br} -o ${br} -j ACCEPT`);
    if (!n.internal) f.push(`-A ${c.forward} -i ${br} ! -o ${br} -j ACCEPT`);
    f.push(`-A ${c.forward} -i ${br} -j DROP`);
    f.push(`-A ${c.forward} -o ${br} -j DROP`);
    f.push(`-A ${c.iso1} -i ${br} ! -o ${br} -j ${c.iso2}`);
    f.push(`-A ${c.iso2} -o ${br} -j DROP`);
  }
  f.push("COMMIT");
  const n: string[] = ["*nat", `:${c.dnat} - [0:0]`, `:${c.postrouting} - [0:0]`];
  for (const net of s.networks) {
    if (!net.internal) n.push(`-A ${c.postrouting} -s ${net.subnet} ! -o ${net.bridge} -j MASQUERADE`);
    // Published ports reached on 127.0.0.1 arrive with a loopback source: masquerade them onto the bridge.
    n.push(`-A ${c.postrouting} -o ${net.bridge} -m addrtype --src-type LOCAL -j MASQUERADE`);
  }
  for (const p of s.ports) {
    const dst = p.hostIp && p.hostIp !== "0.0.0.0" ? `-d ${p.hostIp}/32 ` : "";
    n.push(`-A ${c.dnat} ${dst}-p ${p.proto} -m ${p.proto} --dport ${p.hostPort} -j DNAT --to-destination ${p.containerIp}:${p.containerPort}`);
  }
  n.push("COMMIT");
  return [...f, ...n, ""].join("\n");
}

function run(file: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => { err += d; });
    child.on("error", (e) => reject(systemError(`${file}: ${e.message}`, { cause: e })));
    child.on("close", (code) => code === 0 ? resolve() : reject(systemError(`${file}: ${err.trim() || `exit status ${code}`}`)));
    child.stdin.end(input);
  });
}

/** Berth's packet filter: its own chains (named from a per-daemon prefix) in filter and nat, rebuilt from state. */
export class IptablesFirewall {
  readonly chains: ChainNames;
  #queue: Promise<void> = Promise.resolve();

  constructor(readonly prefix = "BERTH") {
    if (!/^[A-Za-z0-9_-]{1,14}$/.test(prefix)) throw systemError(`invalid firewall chain prefix: ${prefix}`);
    this.chains = chainNames(prefix);
  }

  /** Make the chains hold exactly this state and make sure each jump exists once. Serialised. */
  apply(state: FirewallState): Promise<void> {
    const next = this.#queue.then(async () => {
      await run("iptables-restore", ["-w", "--noflush"], renderRules(this.chains, state));
      await this.#ensureJumps();
    });
    this.#queue = next.catch(() => {});
    return next;
  }

  async #ensureJumps(): Promise<void> {
    for (const [table, chain, rule] of jumpRules(this.chains)) {
      const check = await execFileCapture("iptables", ["-w", "-t", table, "-C", chain, ...rule]);
      if (check.code === 0) continue;
      const ins = await execFileCapture("iptables", ["-w", "-t", table, "-I", chain, "1", ...rule]);
      if (ins.code !== 0) throw systemError(`iptables -t ${table} -I ${chain}: ${ins.stderr.trim()}`);
    }
  }

  /** Remove every jump (also duplicates left by a crash) and our chains. */
  teardown(): Promise<void> {
    const next = this.#queue.then(async () => {
      for (const [table, chain, rule] of jumpRules(this.chains)) {
        for (let i = 0; i < 16; i++) {
          const r = await execFileCapture("iptables", ["-w", "-t", table, "-D", chain, ...rule]);
          if (r.code !== 0) break;
        }
      }
      const c = this.chains;
      for (const [table, chains] of [["filter", [c.forward, c.iso1, c.iso2]], ["nat", [c.dnat, c.postrouting]]] as const) {
        for (const ch of chains) await execFileCapture("iptables", ["-w", "-t", table, "-F", ch]);
        for (const ch of chains) await execFileCapture("iptables", ["-w", "-t", table, "-X", ch]);
      }
    });
    this.#queue = next.catch(() => {});
    return next;
  }
}
