export interface PortEntry { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }

const joinHostPort = (host: string, port: string) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

function formGroup(key: string, start: number, last: number): string {
  const parts = key.split("/");
  let type = parts[0]!;
  let ip = "";
  if (parts.length > 1) { ip = parts[0]!; type = parts[1]!; }
  let group = String(start);
  if (start !== last) group = `${group}-${last}`;
  if (ip) group = `${joinHostPort(ip, group)}->${group}`;
  return `${group}/${type}`;
}

function comparePorts(a: PortEntry, b: PortEntry): number {
  if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
  if ((a.IP ?? "") !== (b.IP ?? "")) return (a.IP ?? "") < (b.IP ?? "") ? -1 : 1;
  if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
  return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
}

/** The PORTS column (docker's DisplayablePorts): ranges grouped, host mappings last. */
export function displayablePorts(ports: PortEntry[]): string {
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const port of [...ports].sort(comparePorts)) {
    const current = port.PrivatePort;
    let key = port.Type;
    if (port.IP) {
      if ((port.PublicPort ?? 0) !== current) {
        hostMappings.push(`${joinHostPort(port.IP, String(port.PublicPort ?? 0))}->${port.PrivatePort}/${port.Type}`);
        continue;
      }
      key = `${port.IP}/${port.Type}`;
    }
    const group = groups.get(key);
    if (!group) { groups.set(key, { first: current, last: current }); continue; }
    if (current === group.last + 1) { group.last = current; continue; }
    result.push(formGroup(key, group.first, group.last));
    groups.set(key, { first: current, last: current });
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  return [...result, ...hostMappings].join(", ");
}
