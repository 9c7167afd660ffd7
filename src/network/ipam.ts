import { conflict, invalidArgument, unavailable } from "../errdefs/index.js";
import { broadcastOf, contains, formatIp, parseCidr, parseIp, type Cidr } from "./ipv4.js";

/** The persisted address state of one network's IPv4 pool. */
export interface IpamState {
  subnet: string;
  ipRange?: string;
  gateway: string;
  /** ip -> owner (endpoint / container id) */
  allocated: Record<string, string>;
  /** last handed-out address, so released addresses are not reused at once (as libnetwork does) */
  last?: string;
}

/**
 * Pick an address for owner. Pure: the caller persists the returned state before using the address.
 * A requested address must lie in the subnet and be free; otherwise the next free address after the last one.
 */
export function allocate(state: IpamState, owner: string, requested?: string): { ip: string; state: IpamState } {
  const subnet = parseCidr(state.subnet);
  const gw = parseIp(state.gateway);
  if (requested) {
    const r = parseIp(requested);
    if (!contains(subnet, r)) throw invalidArgument(`Invalid address ${requested}: It does not belong to any of this network's subnets`);
    if (r === subnet.addr || r === broadcastOf(subnet) || r === gw || state.allocated[requested] !== undefined) {
      throw conflict(`Address already in use`);
    }
    return { ip: requested, state: { ...state, allocated: { ...state.allocated, [requested]: owner } } };
  }
  const range: Cidr = state.ipRange ? parseCidr(state.ipRange) : subnet;
  const first = Math.max(range.addr, subnet.addr + 1);
  const lastAddr = Math.min(broadcastOf(range), broadcastOf(subnet) - 1);
  const count = lastAddr - first + 1;
  const start = state.last ? parseIp(state.last) + 1 : first;
  for (let i = 0; i < count; i++) {
    let cand = start + i;
    if (cand > lastAddr || cand < first) cand = first + ((cand - first) % count + count) % count;
    const s = formatIp(cand >>> 0);
    if (cand === gw || state.allocated[s] !== undefined) continue;
    return { ip: s, state: { ...state, allocated: { ...state.allocated, [s]: owner }, last: s } };
  }
  throw unavailable(`no available IPv4 addresses on this network's address pools: ${state.subnet}`);
}

export function release(state: IpamState, ip: string): IpamState {
  const allocated = { ...state.allocated };
  delete allocated[ip];
  return { ...state, allocated };
}
