import { createServer } from "node:net";
import { createSocket } from "node:dgram";
import { conflict, invalidArgument } from "../errdefs/index.js";
import type { PortBinding } from "../spec/engine.js";

export type Proto = "tcp" | "udp" | "sctp";

/** One port the user asked to publish; hostPortLo/Hi 0 means "any free port". */
export interface PortRequest { proto: Proto; containerPort: number; hostIp: string; hostPortLo: number; hostPortHi: number }

export interface PublishedPort { proto: Proto; containerPort: number; hostIp: string; hostPort: number }

function parseKey(key: string): { proto: Proto; port: number } {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
  if (!m) throw invalidArgument(`invalid port specification: "${key}"`);
  const port = Number(m[1]);
  if (port < 1 || port > 65535) throw invalidArgument(`invalid port specification: "${key}"`);
  return { proto: (m[2] ?? "tcp") as Proto, port };
}

function parseHostPort(s: string | undefined): [number, number] {
  if (!s) return [0, 0];
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw invalidArgument(`invalid hostPort: ${s}`);
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  if (lo < 1 || hi > 65535 || hi < lo) throw invalidArgument(`invalid hostPort: ${s}`);
  return [lo, hi];
}

/** PortBindings plus (with -P) every EXPOSEd port not already bound, as a flat list. */
export function portRequests(bindings: Record<string, PortBinding[] | null> | null | undefined, publishAll: boolean, exposed: Record<string, object> | null | undefined): PortRequest[] {
  const out: PortRequest[] = [];
  const bound = new Set<string>();
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { proto, port } = parseKey(key);
    bound.add(`${port}/${proto}`);
    for (const b of list?.length ? list : [{}]) {
      const [lo, hi] = parseHostPort(b.HostPort);
      const hostIp = b.HostIp ?? "";
      if (hostIp.includes(":")) continue;           // IPv6 publishing is not supported; Docker skips it too without ip6tables
      out.push({ proto, containerPort: port, hostIp, hostPortLo: lo, hostPortHi: hi });
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      const { proto, port } = parseKey(key);
      if (bound.has(`${port}/${proto}`)) continue;
      out.push({ proto, containerPort: port, hostIp: "", hostPortLo: 0, hostPortHi: 0 });
    }
  }
  return out;
}

/** Whether something on the host already listens on ip:port (a probe bind, released at once). */
export function probePort(proto: Proto, hostIp: string, port: number): Promise<number> {
  const ip = hostIp || "0.0.0.0";
  return new Promise((resolve, reject) => {
    if (proto === "udp") {
      const s = createSocket("udp4");
      s.once("error", (e) => { s.close(); reject(e); });
      s.bind(port, ip, () => { const p = s.address().port; s.close(() => resolve(p)); });
      return;
    }
    const srv = createServer();
    srv.once("error", reject);
    srv.listen({ port, host: ip, exclusive: true }, () => {
      const addr = srv.address();
      const p = typeof addr === "object" && addr ? addr.port : port;
      srv.close(() => resolve(p));
    });
  });
}

/**
 * Host ports held by this daemon's containers. The kernel does not know about a DNAT rule, so a port
 * is free only if neither we nor a host listener hold it.
 */
export class PortAllocator {
  #held = new Map<string, string>();              // "tcp/0.0.0.0/8080" -> owner

  #key(proto: string, ip: string, port: number): string {
    return `${proto}/${ip || "0.0.0.0"}/${port}`;
  }

  #taken(proto: string, ip: string, port: number): boolean {
    if (this.#held.has(this.#key(proto, ip, port))) return true;
    // 0.0.0.0 conflicts with every specific address and vice versa.
    if (!ip || ip === "0.0.0.0") {
      for (const k of this.#held.keys()) if (k.startsWith(`${proto}/`) && k.endsWith(`/${port}`)) return true;
      return false;
    }
    return this.#held.has(this.#key(proto, "", port));
  }

  /** Mark ports already published (restore). */
  hold(owner: string, p: PublishedPort): void {
    this.#held.set(this.#key(p.proto, p.hostIp, p.hostPort), owner);
  }

  releaseOwner(owner: string): void {
    for (const [k, v] of this.#held) if (v === owner) this.#held.delete(k);
  }

  async allocate(owner: string, reqs: PortRequest[], endpointName: string): Promise<PublishedPort[]> {
    const out: PublishedPort[] = [];
    try {
      for (const r of reqs) {
        const ip = r.hostIp || "0.0.0.0";
        let chosen = 0;
        if (r.hostPortLo === 0) {
          for (let tries = 0; tries < 32 && !chosen; tries++) {
            const p = await probePort(r.proto, r.hostIp, 0);
            if (!this.#taken(r.proto, r.hostIp, p)) chosen = p;
          }
        } else {
          let lastErr: unknown = null;
          for (let p = r.hostPortLo; p <= r.hostPortHi && !chosen; p++) {
            if (this.#taken(r.proto, r.hostIp, p)) { lastErr = "allocated"; continue; }
            try { await probePort(r.proto, r.hostIp, p); chosen = p; } catch (e) { lastErr = e; }
          }
          if (!chosen) {
            const what = r.hostPortLo === r.hostPortHi ? String(r.hostPortLo) : `${r.hostPortLo}-${r.hostPortHi}`;
            if (lastErr === "allocated") throw conflict(`driver failed programming external connectivity on endpoint ${endpointName}: Bind for ${ip}:${what} failed: port is already allocated`);
            const code = (lastErr as NodeJS.ErrnoException | null)?.code === "EADDRINUSE" ? "address already in use" : String((lastErr as Error)?.message ?? lastErr);
            throw conflict(`driver failed programming external connectivity on endpoint ${endpointName}: Error starting userland proxy: listen ${r.proto}4 ${ip}:${what}: bind: ${code}`);
          }
        }
        if (!chosen) throw conflict(`driver failed programming external connectivity on endpoint ${endpointName}: no free host port`);
        const pub: PublishedPort = { proto: r.proto, containerPort: r.containerPort, hostIp: ip, hostPort: chosen };
        this.hold(owner, pub);
        out.push(pub);
      }
      return out;
    } catch (err) {
      this.releaseOwner(owner);
      throw err;
    }
  }
}
