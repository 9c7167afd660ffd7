import { isIPv4, isIPv6 } from "node:net";
import { invalidArgument } from "../../../errdefs/index.js";
import type { IpamConfig } from "../../../client/types.js";

interface Net { v6: boolean; addr: bigint; bits: number }

function parseIpBig(s: string): { v6: boolean; addr: bigint } | null {
  if (isIPv4(s)) return { v6: false, addr: s.split(".").reduce((a, o) => (a << 8n) | BigInt(Number(o)), 0n) };
  if (!isIPv6(s)) return null;
  const [head, tail] = s.includes("::") ? s.split("::") as [string, string] : [s, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return { v6: true, addr: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g || "0", 16)), 0n) };
}

function parseCidr(s: string): Net | null {
  const slash = s.indexOf("/");
  if (slash < 0) return null;
  const ip = parseIpBig(s.slice(0, slash));
  const bits = Number(s.slice(slash + 1));
  if (!ip || !/^\d+$/.test(s.slice(slash + 1)) || bits > (ip.v6 ? 128 : 32)) return null;
  return { ...ip, bits };
}

/** Go's subnetMatches in docker's network create: does data (an address or CIDR) lie in subnet? */
function subnetMatches(subnet: string, data: string): boolean {
  const s = parseCidr(subnet);
  if (!s) throw invalidArgument(`invalid subnet ${subnet}: invalid CIDR address: ${subnet}`);
  const ip = parseCidr(data) ?? (parseIpBig(data) ? { ...parseIpBig(data)!, bits: 0 } : null);
  if (!ip || ip.v6 !== s.v6) return false;
  const width = s.v6 ? 128 : 32;
  const shift = BigInt(width - s.bits);
  return (ip.addr >> shift) === (s.addr >> shift);
}

/** The docker CLI's consolidateIpam: pairs --subnet, --ip-range, --gateway and --aux-address per subnet, with its wording. */
export function consolidateIpam(subnets: string[], ranges: string[], gateways: string[], aux: Record<string, string>): IpamConfig[] {
  if (subnets.length < ranges.length || subnets.length < gateways.length) throw invalidArgument("every ip-range or gateway must have a corresponding subnet");
  const data = new Map<string, IpamConfig & { AuxiliaryAddresses: Record<string, string> }>();
  for (const s of subnets) {
    for (const k of data.keys()) {
      if (subnetMatches(s, k) || subnetMatches(k, s)) throw invalidArgument("multiple overlapping subnet configuration is not allowed");
    }
    data.set(s, { Subnet: s, AuxiliaryAddresses: {} });
  }
  const place = (value: string, what: "IPRange" | "Gateway", label: string, plural: string) => {
    let match = false;
    for (const s of subnets) {
      if (!subnetMatches(s, value)) continue;
      const d = data.get(s)!;
      if (d[what]) throw invalidArgument(`cannot configure multiple ${plural} (${value}, ${d[what]}) ${what === "IPRange" ? "on" : "for"} the same subnet (${s})`);
      d[what] = value;
      match = true;
    }
    if (!match) throw invalidArgument(`no matching subnet for ${label} ${value}`);
  };
  for (const r of ranges) place(r, "IPRange", "range", "ranges");
  for (const g of gateways) place(g, "Gateway", "gateway", "gateways");
  for (const [key, a] of Object.entries(aux)) {
    let match = false;
    for (const s of subnets) {
      if (!subnetMatches(s, a)) continue;
      data.get(s)!.AuxiliaryAddresses[key] = a;
      match = true;
    }
    if (!match) throw invalidArgument(`no matching subnet for aux-address ${a}`);
  }
  return [...data.values()];
}

/** A map flag (--opt, --label, --aux-address): "k=v" per value, a bare key means an empty value. */
export function keyValues(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq < 0) out[v] = "";
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}
