import { invalidArgument } from "../errdefs/index.js";

/** An IPv4 prefix: network address (as uint32) and prefix length. */
export interface Cidr { addr: number; len: number }

export function parseIp(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) throw invalidArgument(`invalid IP address: ${s}`);
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) throw invalidArgument(`invalid IP address: ${s}`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function isIp(s: string): boolean {
  try { parseIp(s); return true; } catch { return false; }
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** "10.1.2.0/24". A host address with bits below the prefix is refused, as Docker refuses it. */
export function parseCidr(s: string, opts: { allowHostBits?: boolean } = {}): Cidr {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s.trim());
  if (!m) throw invalidArgument(`invalid CIDR address: ${s}`);
  const len = Number(m[2]);
  if (len > 32) throw invalidArgument(`invalid CIDR address: ${s}`);
  let addr: number;
  try { addr = parseIp(m[1]!); } catch { throw invalidArgument(`invalid CIDR address: ${s}`); }
  const net = (addr & maskOf(len)) >>> 0;
  if (net !== addr && !opts.allowHostBits) throw invalidArgument(`invalid subnet ${s}: it should be ${formatCidr({ addr: net, len })}`);
  return { addr: net, len };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.addr)}/${c.len}`;
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.len)) >>> 0) === c.addr;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const len = Math.min(a.len, b.len);
  return ((a.addr & maskOf(len)) >>> 0) === ((b.addr & maskOf(len)) >>> 0);
}

export function sizeOf(c: Cidr): number {
  return 2 ** (32 - c.len);
}

export function broadcastOf(c: Cidr): number {
  return (c.addr + sizeOf(c) - 1) >>> 0;
}

/** Successive subnets of the given size carved out of a pool ("10.213.0.0/16" size 24 → 10.213.0.0/24, 10.213.1.0/24, ...). */
export function* carve(pool: Cidr, size: number): Generator<Cidr> {
  if (size < pool.len) return;
  const step = 2 ** (32 - size);
  for (let a = pool.addr; a < pool.addr + sizeOf(pool); a += step) yield { addr: a >>> 0, len: size };
}
