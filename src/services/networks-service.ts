import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { Mutex } from "../util/mutex.js";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { conflict, invalidArgument, notFound, forbidden } from "../errdefs/index.js";
import { atomicWrite, createLogger, newId, shortId, type Logger } from "../util/index.js";
import type { EndpointSettings, Filters, PortBinding } from "../spec/engine.js";
import type { EventSink } from "./events.js";
import {
  allocate, release, carve, formatCidr, formatIp, parseCidr, parseIp, contains, overlaps, isIp,
  createNetns, removeNetns, netnsExists, CniBridgeDriver, IptablesFirewall, EmbeddedDnsServer,
  renderHosts, renderResolvConf, parseResolvConf, parseExtraHost, portRequests, PortAllocator, writeGenerated, macOf,
  NetworkStore, type NetworkDriver, type DriverNetwork, type NetworkBody, type NetworkRecord,
  type EndpointRecord, type Attachment, type IpamState, type DnsForward, type FirewallState,
} from "../network/index.js";

/** Docker's NetworkCreateRequest. */
export interface NetworkCreateBody {
  Name: string;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  EnableIPv6?: boolean | null;
  EnableIPv4?: boolean | null;
  IPAM?: { Driver?: string; Config?: { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }[] | null; Options?: Record<string, string> | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  CheckDuplicate?: boolean;
}

export interface NetworkContainer { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }
export type NetworkInspect = NetworkBody & { Containers: Record<string, NetworkContainer> };

export interface AttachOptions {
  name: string;                      // container name, without the leading "/"
  networkMode?: string;              // "", "default", "bridge", "host", "none", "container:<id|name>", or a network name/id
  /** NetworkingConfig.EndpointsConfig: per network aliases and IPAMConfig; also extra networks to join. */
  endpointsConfig?: Record<string, EndpointSettings> | null;
  /** When set, join only these of the networks above (by name): the others were disconnected while stopped. */
  joinOnly?: string[];
  aliases?: string[];
  ip?: string;
  portBindings?: Record<string, PortBinding[] | null> | null;
  publishAll?: boolean;
  exposedPorts?: Record<string, object> | null;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  extraHosts?: string[];
  hostname?: string;
  domainname?: string;
}

export interface AttachResult {
  /** "" for --network host: the container stays in the host's namespace. */
  netnsPath: string;
  endpoints: Record<string, EndpointSettings>;
  ports: Record<string, PortBinding[] | null>;
  hostsFile: string;
  resolvConf: string;
  hostnameFile: string;
}

/**
 * The first half of an attach: addresses taken (durably), the namespace made, hosts/hostname/resolv.conf written —
 * all a runtime needs to create the container. join() then puts the interfaces in the namespace and publishes the
 * ports; it must finish before the container's process runs. A failed join undoes the whole endpoint; so does
 * detach() after either half.
 */
export interface PreparedAttach {
  netnsPath: string;
  hostsFile: string;
  resolvConf: string;
  hostnameFile: string;
  /** Idempotent: every call returns the same promise. */
  join(): Promise<AttachResult>;
}

export interface NetworksService {
  create(body: NetworkCreateBody): Promise<{ Id: string; Warning: string }>;
  list(opts?: { filters?: Filters }): Promise<NetworkInspect[]>;
  inspect(idOrName: string): Promise<NetworkInspect>;
  remove(idOrName: string): Promise<void>;
  prune(opts?: { filters?: Filters }): Promise<{ NetworksDeleted: string[] | null }>;
  /** Connect a running container's namespace to one more network; a stopped one is the caller's record to edit. */
  connect(idOrName: string, containerId: string, opts?: { aliases?: string[]; ip?: string }): Promise<void>;
  disconnect(idOrName: string, containerId: string, opts?: { force?: boolean }): Promise<void>;
  /** Whether the container's namespace is attached now (connect/disconnect act live) or not (edit the record). */
  attached(containerId: string): boolean;
  /** The checks connect makes before anything changes; returns the network's name for the record. */
  checkConnect(idOrName: string, opts?: { aliases?: string[]; ip?: string }): Promise<string>;
  /** The network's name, for disconnecting a stopped container. */
  nameOf(idOrName: string): Promise<string>;
  attach(containerId: string, opts: AttachOptions): Promise<AttachResult>;
  /** attach() in two halves, so the caller can overlap the join with its own work (see PreparedAttach). */
  prepare(containerId: string, opts: AttachOptions): Promise<PreparedAttach>;
  detach(containerId: string): Promise<void>;
  /** The container's current network settings (inspect), or null when it has none. */
  settings(containerId: string): Promise<AttachResult | null>;
  /** Forget a removed container (its endpoint files). */
  forget(containerId: string): Promise<void>;
  restore(liveContainerIds?: Iterable<string>): Promise<void>;
  close(): Promise<void>;
}

export interface NetworksServiceOptions {
  dataRoot: string;
  execRoot: string;
  /** iptables chain prefix; differs per daemon instance so two daemons never share chains. */
  chainPrefix?: string;
  /** Name of the default network's bridge device. */
  defaultBridge?: string;
  /** daemon.json bip: the default bridge's gateway address with prefix ("10.200.0.1/16"). */
  bip?: string;
  /** daemon.json default-address-pools: where user networks without --subnet get their subnet. */
  defaultAddressPools?: { base: string; size: number }[];
  /** Upstream resolvers for names the embedded DNS does not know; empty = no forwarding. */
  dnsForward?: DnsForward;
  /** resolv.conf whose servers containers on the default bridge use (Docker copies the host's); null = none. */
  hostResolvConf?: string | null;
  /** daemon.json dns: default nameservers for containers. */
  dns?: string[];
  dnsPort?: number;
  /** Network namespaces kept made ahead of need, so creating one is off the container's start path (0: none). */
  netnsPool?: number;
  driver?: NetworkDriver;
  firewall?: IptablesFirewall;
  log?: Logger;
  /** Docker's network events (create, connect, disconnect, destroy); none in unit tests. */
  events?: EventSink;
}

const PREDEFINED = new Set(["bridge", "host", "none"]);
const DEFAULT_POOLS = [{ base: "10.201.0.0/16", size: 24 }];


function noSuchNetwork(ref: string): Error {
  return notFound(`network ${ref} not found`);
}

/** Networks on Linux bridges (CNI), Berth's IPAM, its own iptables chains and an embedded DNS per user network. */
export class LocalNetworksService implements NetworksService {
  readonly store: NetworkStore;
  readonly driver: NetworkDriver;
  readonly firewall: IptablesFirewall;
  readonly #log: Logger;
  readonly #o: NetworksServiceOptions;
  readonly #lock = new Mutex();
  readonly #ports = new PortAllocator();
  #networks = new Map<string, NetworkRecord>();
  #endpoints = new Map<string, EndpointRecord>();
  #dns = new Map<string, EmbeddedDnsServer>();
  /**
   * Endpoints being torn down in the background after their container stopped: gone from #endpoints (names stop
   * resolving, networks can be removed once they finish) but their addresses stay taken and their records stay on
   * disk until the namespace is gone, so a crash midway leaves a record that restore() finishes.
   */
  #releasing = new Map<string, { rec: EndpointRecord; done: Promise<void> }>();
  /** Namespaces made ahead (see netnsPool); swept by restore() like any namespace no endpoint record names. */
  #spareNetns: string[] = [];
  #refilling = false;
  /** Every background task (teardowns, directory removals, spare namespaces), for close(). */
  #background = new Set<Promise<void>>();

  #track(p: Promise<void>): Promise<void> {
    this.#background.add(p);
    void p.finally(() => this.#background.delete(p));
    return p;
  }
  #ready: Promise<void> | null = null;

  constructor(opts: NetworksServiceOptions) {
    this.#o = opts;
    this.store = new NetworkStore(join(opts.dataRoot, "networks"));
    this.driver = opts.driver ?? new CniBridgeDriver();
    this.firewall = opts.firewall ?? new IptablesFirewall(opts.chainPrefix ?? "BERTH");
    this.#log = opts.log ?? createLogger("warn");
  }

  /** Docker's LogNetworkEvent: the actor is the network, with its name and driver type. */
  #emit(action: string, r: NetworkRecord, extra: Record<string, string> = {}): void {
    this.#o.events?.publish("network", action, r.net.Id, { name: r.net.Name, type: r.net.Driver, ...extra });
  }

  // ---- records -------------------------------------------------------------------------------

  #init(): Promise<void> {
    this.#ready ??= (async () => {
      await this.store.init();
      for (const r of await this.store.loadNetworks()) this.#networks.set(r.net.Id, r);
      for (const e of await this.store.loadEndpoints()) this.#endpoints.set(e.containerId, e);
      // The endpoint records are the durable truth of which address is taken; the networks' copies are rebuilt from them.
      for (const r of this.#networks.values()) if (r.ipam) r.ipam = { ...r.ipam, allocated: {} };
      for (const e of this.#endpoints.values()) {
        for (const a of e.attachments) {
          const n = this.#networks.get(a.networkId);
          if (n?.ipam) n.ipam.allocated[a.ip] = e.containerId;
        }
      }
      await this.#ensurePredefined();
    })();
    return this.#ready;
  }

  async #ensurePredefined(): Promise<void> {
    const byName = (n: string) => [...this.#networks.values()].find((r) => r.net.Name === n && r.predefined);
    for (const name of ["host", "none"]) {
      if (byName(name)) continue;
      const rec: NetworkRecord = { net: this.#body(newId(), name, name === "host" ? "host" : "null", { Driver: "default", Options: null, Config: [] }, {}), bridge: "", ipam: null, predefined: true };
      await this.store.saveNetwork(rec);
      this.#networks.set(rec.net.Id, rec);
    }
    const bip = this.#o.bip || "10.200.0.1/16";
    const gwCidr = parseCidr(bip, { allowHostBits: true });
    const gateway = bip.split("/")[0]!;
    const subnet = formatCidr(gwCidr);
    const bridge = this.#o.defaultBridge ?? "berth0";
    const existing = byName("bridge");
    if (existing && existing.ipam?.subnet === subnet && existing.bridge === bridge) return;
    if (existing) {
      // bip or the bridge name changed in daemon.json: the default network follows (as dockerd does on restart).
      if ([...this.#endpoints.values()].some((e) => e.attachments.some((a) => a.networkId === existing.net.Id))) return;
      await this.driver.deleteNetwork(this.#driverNet(existing)).catch(() => {});
      await this.store.deleteNetwork(existing.net.Id);
      this.#networks.delete(existing.net.Id);
    }
    const rec: NetworkRecord = {
      net: this.#body(existing?.net.Id ?? newId(), "bridge", "bridge", { Driver: "default", Options: null, Config: [{ Subnet: subnet, Gateway: gateway }] }, {
        "com.docker.network.bridge.default_bridge": "true", "com.docker.network.bridge.enable_icc": "true",
        "com.docker.network.bridge.enable_ip_masquerade": "true", "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
        "com.docker.network.bridge.name": bridge, "com.docker.network.driver.mtu": "1500",
      }),
      bridge, ipam: { subnet, gateway, allocated: {} }, predefined: true,
    };
    await this.store.saveNetwork(rec);
    this.#networks.set(rec.net.Id, rec);
  }

  #body(id: string, name: string, driver: string, ipam: NetworkBody["IPAM"], options: Record<string, string>, extra: Partial<NetworkBody> = {}): NetworkBody {
    return {
      Name: name, Id: id, Created: new Date().toISOString(), Scope: "local", Driver: driver, EnableIPv4: true, EnableIPv6: false,
      IPAM: ipam, Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: "" }, ConfigOnly: false,
      Options: options, Labels: {}, ...extra,
    };
  }

  #driverNet(r: NetworkRecord): DriverNetwork {
    const mtu = Number(r.net.Options["com.docker.network.driver.mtu"] ?? 0);
    return { id: r.net.Id, bridge: r.bridge, subnet: r.ipam!.subnet, gateway: r.ipam!.gateway, internal: r.net.Internal, ...(mtu && mtu !== 1500 ? { mtu } : {}) };
  }

  #find(ref: string): NetworkRecord {
    const all = [...this.#networks.values()];
    const hit = all.find((r) => r.net.Id === ref) ?? all.find((r) => r.net.Name === ref);
    if (hit) return hit;
    const pre = all.filter((r) => ref.length > 0 && r.net.Id.startsWith(ref));
    if (pre.length === 1) return pre[0]!;
    if (pre.length > 1) throw invalidArgument(`network ${ref} is ambiguous (${pre.length} matches found based on ID prefix)`);
    throw noSuchNetwork(ref);
  }

  #isUserDefined(r: NetworkRecord): boolean {
    return !r.predefined && r.net.Driver === "bridge";
  }

  #containersOf(id: string): Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }> {
    const out: Record<string, NetworkContainer> = {};
    for (const e of this.#endpoints.values()) {
      for (const a of e.attachments) {
        if (a.networkId === id) out[e.containerId] = { Name: e.name, EndpointID: a.endpointId, MacAddress: a.mac, IPv4Address: `${a.ip}/${a.prefixLen}`, IPv6Address: "" };
      }
      const net = this.#networks.get(id);
      if (net?.net.Driver === "host" && e.mode === "host") out[e.containerId] = { Name: e.name, EndpointID: "", MacAddress: "", IPv4Address: "", IPv6Address: "" };
    }
    return out;
  }

  #inspectOf(r: NetworkRecord): NetworkInspect {
    return { ...r.net, Containers: this.#containersOf(r.net.Id) };
  }

  // ---- networks ------------------------------------------------------------------------------

  async create(body: NetworkCreateBody): Promise<{ Id: string; Warning: string }> {
    await this.#init();
    const name = body.Name ?? "";
    if (!name) throw invalidArgument("network name must not be empty");
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw invalidArgument(`invalid network name "${name}": must match [a-zA-Z0-9][a-zA-Z0-9_.-]`);
    const driver = body.Driver || "bridge";
    if (PREDEFINED.has(name)) throw forbidden(`${name} is a pre-defined network and cannot be created`);
    if (driver !== "bridge") throw notFound(`plugin "${driver}" not found`);
    if (body.EnableIPv6) throw invalidArgument("IPv6 networks are not supported by Berth");
    if (body.IPAM?.Driver && body.IPAM.Driver !== "default") throw notFound(`plugin "${body.IPAM.Driver}" not found`);
    const cfgs = body.IPAM?.Config ?? [];
    if (cfgs.length > 1) throw invalidArgument("Berth networks take one IPv4 subnet");
    const opts = { ...(body.Options ?? {}) };
    return this.#lock.run(async () => {
      if ([...this.#networks.values()].some((r) => r.net.Name === name)) throw conflict(`network with name ${name} already exists`);
      const taken = [...this.#networks.values()].filter((r) => r.ipam).map((r) => parseCidr(r.ipam!.subnet));
      const cfg = cfgs[0] ?? {};
      let subnet;
      if (cfg.Subnet) {
        subnet = parseCidr(cfg.Subnet);
        if (subnet.len > 30) throw invalidArgument(`invalid subnet ${cfg.Subnet}: too small for a network`);
        if (taken.some((t) => overlaps(t, subnet!))) throw conflict(`invalid pool request: Pool overlaps with other one on this address space`);
      } else {
        if (cfg.IPRange || cfg.Gateway) throw invalidArgument("ip-range and gateway need a subnet (--subnet)");
        for (const pool of this.#o.defaultAddressPools?.length ? this.#o.defaultAddressPools : DEFAULT_POOLS) {
          for (const c of carve(parseCidr(pool.base), pool.size)) {
            if (!taken.some((t) => overlaps(t, c))) { subnet = c; break; }
          }
          if (subnet) break;
        }
        if (!subnet) throw conflict("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network");
      }
      let gateway: string;
      if (cfg.Gateway) {
        const gw = parseIp(cfg.Gateway);
        if (!contains(subnet, gw)) throw invalidArgument(`Invalid gateway address ${cfg.Gateway}: it does not belong to subnet ${formatCidr(subnet)}`);
        gateway = cfg.Gateway;
      } else gateway = formatIp(subnet.addr + 1);
      if (cfg.IPRange) {
        const range = parseCidr(cfg.IPRange);
        if (!contains(subnet, range.addr) || range.len < subnet.len) throw invalidArgument(`Invalid ip-range ${cfg.IPRange}: it does not belong to subnet ${formatCidr(subnet)}`);
      }
      const id = newId();
      const bridge = opts["com.docker.network.bridge.name"] || `br-${id.slice(0, 12)}`;
      if (bridge.length > 15) throw invalidArgument(`bridge name ${bridge} is longer than 15 characters`);
      if ([...this.#networks.values()].some((r) => r.bridge === bridge)) throw conflict(`bridge name ${bridge} is already in use by another network`);
      const ipamCfg: { Subnet: string; Gateway: string; IPRange?: string } = { Subnet: formatCidr(subnet), Gateway: gateway };
      if (cfg.IPRange) ipamCfg.IPRange = cfg.IPRange;
      const ipam: IpamState = { subnet: formatCidr(subnet), gateway, allocated: {} };
      if (cfg.IPRange) ipam.ipRange = cfg.IPRange;
      const rec: NetworkRecord = {
        net: this.#body(id, name, "bridge", { Driver: "default", Options: body.IPAM?.Options ?? {}, Config: [ipamCfg] }, opts, {
          Internal: !!body.Internal, Attachable: !!body.Attachable, Labels: body.Labels ?? {},
        }),
        bridge, ipam, predefined: false,
      };
      await this.driver.createNetwork(this.#driverNet(rec));
      try {
        await this.store.saveNetwork(rec);
        this.#networks.set(id, rec);
        await this.#startDns(rec);
        await this.#applyFirewall();
      } catch (err) {
        this.#networks.delete(id);
        await this.#stopDns(id);
        await this.store.deleteNetwork(id).catch(() => {});
        await this.driver.deleteNetwork(this.#driverNet(rec)).catch(() => {});
        await this.#applyFirewall().catch(() => {});
        throw err;
      }
      this.#emit("create", rec);
      return { Id: id, Warning: "" };
    });
  }

  async list(opts: { filters?: Filters } = {}): Promise<NetworkInspect[]> {
    await this.#init();
    const f = opts.filters ?? {};
    for (const k of Object.keys(f)) if (!["name", "id", "label", "driver", "type", "scope", "dangling"].includes(k)) throw invalidArgument(`invalid filter '${k}'`);
    const out: NetworkInspect[] = [];
    for (const r of this.#networks.values()) {
      const n = this.#inspectOf(r);
      if (f.name?.length && !f.name.some((v) => n.Name.includes(v))) continue;
      if (f.id?.length && !f.id.some((v) => n.Id.startsWith(v))) continue;
      if (f.driver?.length && !f.driver.includes(n.Driver)) continue;
      if (f.scope?.length && !f.scope.includes("local")) continue;
      if (f.type?.length && !f.type.includes(r.predefined ? "builtin" : "custom")) continue;
      if (f.label?.length && !f.label.every((l) => { const [k, v] = l.split("=", 2); return k! in n.Labels && (v === undefined || n.Labels[k!] === v); })) continue;
      if (f.dangling?.length) {
        const want = f.dangling[0] === "true" || f.dangling[0] === "1";
        if (want !== (!r.predefined && Object.keys(n.Containers).length === 0)) continue;
      }
      out.push(n);
    }
    return out.sort((a, b) => a.Name.localeCompare(b.Name));
  }

  async inspect(idOrName: string): Promise<NetworkInspect> {
    await this.#init();
    return this.#inspectOf(this.#find(idOrName));
  }

  async remove(idOrName: string): Promise<void> {
    await this.#init();
    await this.#settle(this.#find(idOrName).net.Id);
    await this.#lock.run(async () => {
      const r = this.#find(idOrName);
      if (r.predefined) throw forbidden(`${r.net.Name} is a pre-defined network and cannot be removed`);
      if (Object.keys(this.#containersOf(r.net.Id)).length) throw forbidden(`error while removing network: network ${r.net.Name} id ${r.net.Id} has active endpoints`);
      await this.#removeNetwork(r);
    });
  }

  async #removeNetwork(r: NetworkRecord): Promise<void> {
    await this.#stopDns(r.net.Id);
    await this.store.deleteNetwork(r.net.Id);
    this.#networks.delete(r.net.Id);
    await this.#applyFirewall();
    await this.driver.deleteNetwork(this.#driverNet(r));
    this.#emit("destroy", r);
  }

  async prune(opts: { filters?: Filters } = {}): Promise<{ NetworksDeleted: string[] | null }> {
    await this.#init();
    const f = opts.filters ?? {};
    await this.#settle();
    return this.#lock.run(async () => {
      const deleted: string[] = [];
      for (const r of [...this.#networks.values()]) {
        if (r.predefined || Object.keys(this.#containersOf(r.net.Id)).length) continue;
        if (f.label?.length && !f.label.every((l) => { const [k, v] = l.split("=", 2); return k! in r.net.Labels && (v === undefined || r.net.Labels[k!] === v); })) continue;
        if (f["label!"]?.length && f["label!"].some((l) => { const [k, v] = l.split("=", 2); return k! in r.net.Labels && (v === undefined || r.net.Labels[k!] === v); })) continue;
        if (f.until?.length) {
          const until = Number(f.until[0]) ? Number(f.until[0]) * 1000 : Date.parse(f.until[0]!);
          if (Date.parse(r.net.Created) >= until) continue;
        }
        await this.#removeNetwork(r);
        deleted.push(r.net.Name);
      }
      return { NetworksDeleted: deleted.length ? deleted : null };
    });
  }

  // ---- DNS and firewall ----------------------------------------------------------------------

  async #startDns(r: NetworkRecord): Promise<void> {
    if (!this.#isUserDefined(r) || this.#dns.has(r.net.Id)) return;
    const srv = new EmbeddedDnsServer(r.ipam!.gateway, (client, name) => this.#lookup(client, name), this.#o.dnsForward, this.#log, this.#o.dnsPort ?? 53);
    await srv.start();
    this.#dns.set(r.net.Id, srv);
  }

  async #stopDns(id: string): Promise<void> {
    const s = this.#dns.get(id);
    this.#dns.delete(id);
    await s?.stop();
  }

  /** Names a container may resolve: those on the user-defined networks it shares with the target. */
  #lookup(clientIp: string, name: string): string[] | null {
    const clientNets = new Set<string>();
    for (const e of this.#endpoints.values()) for (const a of e.attachments) if (a.ip === clientIp) clientNets.add(a.networkId);
    const out: string[] = [];
    for (const e of this.#endpoints.values()) {
      for (const a of e.attachments) {
        if (!clientNets.has(a.networkId)) continue;
        const net = this.#networks.get(a.networkId);
        if (!net || !this.#isUserDefined(net)) continue;
        const names = [e.name, shortId(e.containerId), ...a.aliases].map((n) => n.toLowerCase());
        if (names.includes(name) || names.some((n) => `${n}.${net.net.Name.toLowerCase()}` === name)) out.push(a.ip);
      }
    }
    return out.length ? [...new Set(out)] : null;
  }

  #firewallState(): FirewallState {
    const networks = [...this.#networks.values()].filter((r) => r.net.Driver === "bridge" && r.ipam).map((r) => ({ bridge: r.bridge, subnet: r.ipam!.subnet, internal: r.net.Internal }));
    const ports = [...this.#endpoints.values()].flatMap((e) => e.ports.map((p) => ({ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, containerIp: p.containerIp, containerPort: p.containerPort })));
    return { networks, ports };
  }

  #applyFirewall(): Promise<void> {
    return this.firewall.apply(this.#firewallState());
  }

  // ---- containers ----------------------------------------------------------------------------

  #resolveContainer(ref: string): EndpointRecord | undefined {
    return this.#endpoints.get(ref) ?? [...this.#endpoints.values()].find((e) => e.name === ref || e.name === ref.replace(/^\//, "")) ??
      [...this.#endpoints.values()].find((e) => ref.length >= 3 && e.containerId.startsWith(ref));
  }

  async attach(containerId: string, o: AttachOptions): Promise<AttachResult> {
    return (await this.prepare(containerId, o)).join();
  }

  #prepared(rec: EndpointRecord, join: () => Promise<AttachResult>): PreparedAttach {
    let joined: Promise<AttachResult> | null = null;
    return { netnsPath: rec.netnsPath, hostsFile: rec.hostsFile, resolvConf: rec.resolvConf, hostnameFile: rec.hostnameFile, join: () => (joined ??= join()) };
  }

  async prepare(containerId: string, o: AttachOptions): Promise<PreparedAttach> {
    await this.#init();
    await this.#releasing.get(containerId)?.done;
    if (this.#endpoints.has(containerId)) throw conflict(`container ${containerId} is already attached to its networks`);
    const mode = o.networkMode && o.networkMode !== "default" ? o.networkMode : "bridge";
    const dir = this.store.endpointDir(containerId);
    await mkdir(dir, { recursive: true });
    const hostname = o.hostname || containerId.slice(0, 12);
    const fqdn = o.domainname ? `${hostname}.${o.domainname}` : hostname;
    const rec: EndpointRecord = {
      containerId, name: o.name.replace(/^\//, ""), hostname, mode: "bridge", sharedWith: "", netnsPath: "", ownNetns: false,
      attachments: [], ports: [], exposed: Object.keys(o.exposedPorts ?? {}), extraHosts: [],
      hostsFile: join(dir, "hosts"), resolvConf: join(dir, "resolv.conf"), hostnameFile: join(dir, "hostname"),
    };

    if (mode.startsWith("container:")) {
      const other = this.#resolveContainer(mode.slice("container:".length));
      if (!other || (!other.netnsPath && other.mode !== "host")) throw conflict(`cannot join network namespace of container ${mode.slice(10)}: it is not running`);
      Object.assign(rec, { mode: "container", sharedWith: other.containerId, netnsPath: other.netnsPath, hostsFile: other.hostsFile, resolvConf: other.resolvConf });
      await atomicWrite(rec.hostnameFile, `${hostname}\n`);
      await this.#lock.run(() => this.store.saveEndpoint(rec));
      this.#endpoints.set(containerId, rec);
      return this.#prepared(rec, async () => this.#result(rec));
    }
    if (mode === "host") {
      rec.mode = "host";
      await this.#writeFiles(rec, o, fqdn, await readFile("/etc/hosts", "utf8").catch(() => renderHosts({ own: [], extraHosts: [] })));
      await this.#lock.run(() => this.store.saveEndpoint(rec));
      this.#endpoints.set(containerId, rec);
      return this.#prepared(rec, async () => this.#result(rec));
    }

    // Which networks: the primary (mode) first, then the other EndpointsConfig entries, then connect-while-stopped ones.
    const wanted: { net: NetworkRecord; aliases: string[]; ip: string }[] = [];
    if (mode !== "none") {
      const primary = this.#find(mode);
      if (primary.net.Driver === "host" || primary.net.Driver === "null") {
        return this.prepare(containerId, { ...o, networkMode: primary.net.Driver === "host" ? "host" : "none" });
      }
      const cfg = o.endpointsConfig?.[mode] ?? o.endpointsConfig?.[primary.net.Name] ?? o.endpointsConfig?.[primary.net.Id];
      wanted.push({ net: primary, aliases: [...(o.aliases ?? []), ...(cfg?.Aliases ?? [])], ip: o.ip || cfg?.IPAMConfig?.IPv4Address || "" });
      for (const [ref, es] of Object.entries(o.endpointsConfig ?? {})) {
        const n = this.#find(ref);
        if (wanted.some((w) => w.net === n)) continue;
        wanted.push({ net: n, aliases: es.Aliases ?? [], ip: es.IPAMConfig?.IPv4Address ?? "" });
      }
      if (o.joinOnly) {
        const only = new Set(o.joinOnly);
        for (let i = wanted.length - 1; i >= 0; i--) if (!only.has(wanted[i]!.net.net.Name)) wanted.splice(i, 1);
      }
    } else rec.mode = "none";
    for (const w of wanted) {
      if ((w.ip || w.aliases.length) && !this.#isUserDefined(w.net) && (w.ip || w.aliases.length)) {
        if (w.ip) throw invalidArgument("user specified IP address is supported on user defined networks only");
        throw invalidArgument("network-scoped alias is supported only for containers in user defined networks");
      }
    }
    const hostGateway = wanted[0]?.net.ipam?.gateway ?? this.#defaultGateway();
    rec.extraHosts = (o.extraHosts ?? []).map((h) => parseExtraHost(h, hostGateway));
    // Every network disconnected while stopped: nothing to publish on (Docker starts it with loopback only).
    const reqs = o.joinOnly && wanted.length === 0 ? [] : portRequests(o.portBindings, !!o.publishAll, o.exposedPorts);
    if (reqs.length && wanted.length === 0) throw invalidArgument("conflicting options: port publishing and the container type network mode");

    rec.netnsPath = join(this.#o.execRoot, "netns", containerId);
    rec.ownNetns = true;
    try {
      // Addresses are taken in memory under the lock, then made durable by the endpoint record before the interface
      // exists; the namespace is made meanwhile (restore() sweeps one that no record names).
      await this.#lock.run(async () => {
        for (const [i, w] of wanted.entries()) rec.attachments.push(this.#allocate(w.net, containerId, i, w.aliases, w.ip));
        this.#endpoints.set(containerId, rec);
      });
      const spare = this.#spareNetns.pop();
      if (spare) {
        rec.netnsPath = spare;
        await this.store.saveEndpoint(rec);
      } else {
        await Promise.all([createNetns(rec.netnsPath), this.store.saveEndpoint(rec)]);
      }
      this.#refillNetns();
      if (reqs.length) {
        // Held in memory (a second claim fails at once); made durable with their rules by join().
        const pubs = await this.#ports.allocate(containerId, reqs, rec.name);
        rec.ports = pubs.map((p) => ({ ...p, containerIp: rec.attachments[0]!.ip }));
      }
      const own = rec.attachments.map((a) => ({ ip: a.ip, names: fqdn !== hostname ? [fqdn, hostname] : [hostname] }));
      await this.#writeFiles(rec, o, fqdn, renderHosts({ own, extraHosts: rec.extraHosts }));
    } catch (err) {
      await this.#teardown(rec).catch((e) => this.#log.warn("cleanup after failed attach", { err: e }));
      throw err;
    }
    return this.#prepared(rec, () => this.#join(rec));
  }

  /** The interfaces (CNI ADD) and the published ports' rules, at once; on failure the whole endpoint is undone. */
  async #join(rec: EndpointRecord): Promise<AttachResult> {
    try {
      const joins = Promise.all(rec.attachments.map(async (a) => {
        const net = this.#networks.get(a.networkId)!;
        const { mac } = await this.driver.join(this.#driverNet(net), { containerId: rec.containerId, netnsPath: rec.netnsPath, ifName: a.ifName, ip: a.ip, prefixLen: a.prefixLen, mac: a.mac });
        if (mac !== a.mac) { a.mac = mac; await this.#lock.run(() => this.store.saveEndpoint(rec)); }
      }));
      const rules = rec.ports.length ? this.#lock.run(async () => {
        await this.store.saveEndpoint(rec);
        await this.#applyFirewall();
      }) : null;
      const [j, r] = await Promise.allSettled([joins, rules]);
      if (j.status === "rejected") throw j.reason;
      if (r.status === "rejected") throw r.reason;
      for (const a of rec.attachments) this.#emit("connect", this.#networks.get(a.networkId)!, { container: rec.containerId });
      return this.#result(rec);
    } catch (err) {
      await this.#teardown(rec).catch((e) => this.#log.warn("cleanup after failed attach", { err: e }));
      throw err;
    }
  }

  #defaultGateway(): string {
    return [...this.#networks.values()].find((r) => r.predefined && r.net.Name === "bridge")?.ipam?.gateway ?? "";
  }

  /** In memory only: the caller persists the endpoint record that holds the address before using it. */
  #allocate(net: NetworkRecord, cid: string, index: number, aliases: string[], ip: string): Attachment {
    if (ip && !isIp(ip)) throw invalidArgument(`invalid IPv4 address: ${ip}`);
    const { ip: got, state } = allocate(net.ipam!, cid, ip || undefined);
    net.ipam = state;
    return {
      networkId: net.net.Id, endpointId: newId(), ifName: `eth${index}`, ip: got, prefixLen: parseCidr(state.subnet).len,
      gateway: state.gateway, mac: macOf(got), aliases, requestedIp: ip,
    };
  }

  async #writeFiles(rec: EndpointRecord, o: AttachOptions, fqdn: string, hosts: string): Promise<void> {
    const written = [writeGenerated(rec.hostsFile, hosts), writeGenerated(rec.hostnameFile, `${rec.hostname}\n`)];
    void fqdn;
    const userNet = rec.attachments.map((a) => this.#networks.get(a.networkId)).find((n) => n && this.#isUserDefined(n));
    let nameservers: string[];
    let search = o.dnsSearch ?? [];
    let options = o.dnsOptions ?? [];
    if (userNet) {
      // The embedded resolver on the gateway answers for the network; --dns servers are its upstreams (as Docker's 127.0.0.11).
      nameservers = [userNet.ipam!.gateway];
    } else if (rec.mode === "none") {
      nameservers = o.dns?.length ? o.dns : [];
    } else {
      const host = this.#o.hostResolvConf === null ? { nameservers: [], search: [], options: [] }
        : parseResolvConf(await readFile(this.#o.hostResolvConf ?? "/etc/resolv.conf", "utf8").catch(() => ""));
      nameservers = o.dns?.length ? o.dns : this.#o.dns?.length ? this.#o.dns : host.nameservers;
      if (!o.dnsSearch?.length) search = host.search;
      if (!o.dnsOptions?.length) options = host.options;
    }
    await Promise.all([...written, writeGenerated(rec.resolvConf, renderResolvConf({ nameservers, search, options, comment: "Generated by Berth" }))]);
  }

  #result(rec: EndpointRecord): AttachResult {
    const endpoints: Record<string, EndpointSettings> = {};
    for (const a of rec.attachments) {
      const net = this.#networks.get(a.networkId);
      if (!net) continue;
      const user = this.#isUserDefined(net);
      endpoints[net.net.Name] = {
        IPAMConfig: a.requestedIp ? { IPv4Address: a.requestedIp } : null, Links: null, Aliases: user ? a.aliases : null,
        MacAddress: a.mac, NetworkID: net.net.Id, EndpointID: a.endpointId, Gateway: a.gateway, IPAddress: a.ip, IPPrefixLen: a.prefixLen,
        IPv6Gateway: "", GlobalIPv6Address: "", GlobalIPv6PrefixLen: 0,
        DNSNames: user ? [rec.name, shortId(rec.containerId), ...a.aliases] : null,
      };
    }
    if (rec.mode === "host" || rec.mode === "none") {
      const net = [...this.#networks.values()].find((r) => r.predefined && r.net.Name === rec.mode);
      if (net) endpoints[net.net.Name] = { IPAMConfig: null, Links: null, Aliases: null, MacAddress: "", NetworkID: net.net.Id, EndpointID: "", Gateway: "", IPAddress: "", IPPrefixLen: 0, IPv6Gateway: "", GlobalIPv6Address: "", GlobalIPv6PrefixLen: 0, DNSNames: null };
    }
    const ports: Record<string, PortBinding[] | null> = {};
    for (const e of rec.exposed) ports[e.includes("/") ? e : `${e}/tcp`] = null;
    for (const p of rec.ports) {
      const key = `${p.containerPort}/${p.proto}`;
      (ports[key] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
    }
    return { netnsPath: rec.netnsPath, endpoints, ports, hostsFile: rec.hostsFile, resolvConf: rec.resolvConf, hostnameFile: rec.hostnameFile };
  }

  /** Undo an endpoint: CNI DEL, addresses back, rules gone, namespace gone. Tolerates half-made state. */
  async #teardown(rec: EndpointRecord): Promise<void> {
    for (const a of rec.attachments) {
      const net = this.#networks.get(a.networkId);
      if (net && rec.ownNetns) await this.driver.leave(this.#driverNet(net), { containerId: rec.containerId, netnsPath: rec.netnsPath, ifName: a.ifName, ip: a.ip, prefixLen: a.prefixLen }).catch((err) => this.#log.warn("CNI DEL failed", { err }));
      if (net && a.mac) this.#emit("disconnect", net, { container: rec.containerId });
    }
    if (rec.ownNetns && rec.netnsPath) await removeNetns(rec.netnsPath);
    this.#ports.releaseOwner(rec.containerId);
    await this.#lock.run(async () => {
      // The record goes first: once it is gone nothing durable claims the addresses.
      await this.store.deleteEndpoint(rec.containerId);
      for (const a of rec.attachments) {
        const net = this.#networks.get(a.networkId);
        if (net?.ipam && net.ipam.allocated[a.ip] === rec.containerId) net.ipam = release(net.ipam, a.ip);
      }
      if (this.#endpoints.get(rec.containerId) === rec) this.#endpoints.delete(rec.containerId);
      if (rec.ports.length) await this.#applyFirewall();
    });
  }

  /**
   * A stopped container's endpoint goes at once from what the service shows and resolves; the namespace, CNI DEL and
   * the addresses follow in the background (published ports are released before returning, so the port is free again).
   */
  async detach(containerId: string): Promise<void> {
    await this.#init();
    const rec = this.#endpoints.get(containerId);
    if (!rec) return;
    if (rec.ports.length || !rec.ownNetns) { await this.#teardown(rec); return; }
    this.#endpoints.delete(containerId);
    const done = this.#teardown(rec)
      .catch((err) => this.#log.warn("network teardown failed; restore() retries it", { container: containerId, err }))
      .finally(() => { if (this.#releasing.get(containerId)?.rec === rec) this.#releasing.delete(containerId); });
    this.#releasing.set(containerId, { rec, done: this.#track(done) });
  }

  #refillNetns(): void {
    const want = this.#o.netnsPool ?? 2;
    if (this.#refilling || this.#spareNetns.length >= want) return;
    this.#refilling = true;
    // After the current start has had the CPU: the spare is for the next container.
    this.#track(new Promise<void>((r) => setTimeout(r, 50)).then(async () => {
      while (this.#refilling && this.#spareNetns.length < want) {
        const path = join(this.#o.execRoot, "netns", `spare-${newId().slice(0, 16)}`);
        await createNetns(path);
        if (this.#refilling) this.#spareNetns.push(path); else await removeNetns(path);
      }
    }).catch((err) => this.#log.warn("making a spare network namespace", { err })).finally(() => { this.#refilling = false; }));
  }

  async #dropSpareNetns(): Promise<void> {
    this.#refilling = false;
    await this.settled();
    for (const p of this.#spareNetns.splice(0)) await removeNetns(p).catch((err) => this.#log.warn("removing a spare namespace", { path: p, err }));
  }

  /** Background teardowns still running (on the given network, or all). */
  async #settle(networkId?: string): Promise<void> {
    const pending = [...this.#releasing.values()].filter((r) => !networkId || r.rec.attachments.some((a) => a.networkId === networkId));
    await Promise.all(pending.map((r) => r.done));
  }

  async settings(containerId: string): Promise<AttachResult | null> {
    await this.#init();
    const rec = this.#endpoints.get(containerId);
    return rec ? this.#result(rec) : null;
  }

  async forget(containerId: string): Promise<void> {
    await this.detach(containerId);
    const pending = this.#releasing.get(containerId);
    const removeDir = () => rm(this.store.endpointDir(containerId), { recursive: true, force: true });
    if (!pending) { await removeDir(); return; }
    // After the background teardown: its record lives in that directory until the namespace is gone.
    this.#track(pending.done.then(removeDir).catch((err) => this.#log.warn("endpoint cleanup failed", { container: containerId, err })));
  }

  attached(containerId: string): boolean {
    return this.#endpoints.has(containerId);
  }

  async checkConnect(idOrName: string, opts: { aliases?: string[]; ip?: string } = {}): Promise<string> {
    await this.#init();
    const net = this.#find(idOrName);
    if (!this.#isUserDefined(net) && (opts.ip || opts.aliases?.length)) throw invalidArgument("network-scoped alias is supported only for containers in user defined networks");
    if (net.net.Driver !== "bridge") throw forbidden(`container cannot be disconnected from host network or connected to host network`);
    return net.net.Name;
  }

  async nameOf(idOrName: string): Promise<string> {
    await this.#init();
    return this.#find(idOrName).net.Name;
  }

  async connect(idOrName: string, containerId: string, opts: { aliases?: string[]; ip?: string } = {}): Promise<void> {
    await this.checkConnect(idOrName, opts);
    const net = this.#find(idOrName);
    const rec = this.#endpoints.get(containerId);
    if (!rec) throw conflict(`container ${containerId} is not running`);
    if (rec.mode !== "bridge" && rec.mode !== "none") throw forbidden(`container sharing network namespace with another container or host cannot be connected to any other network`);
    if (rec.attachments.some((a) => a.networkId === net.net.Id)) throw forbidden(`endpoint with name ${rec.name} already exists in network ${net.net.Name}`);
    const index = Math.max(-1, ...rec.attachments.map((a) => Number(a.ifName.slice(3)))) + 1;
    const a = await this.#lock.run(async () => {
      const att = this.#allocate(net, containerId, index, opts.aliases ?? [], opts.ip ?? "");
      rec.attachments.push(att);
      await this.store.saveEndpoint(rec);
      return att;
    });
    try {
      const { mac } = await this.driver.join(this.#driverNet(net), { containerId, netnsPath: rec.netnsPath, ifName: a.ifName, ip: a.ip, prefixLen: a.prefixLen, mac: a.mac });
      if (mac !== a.mac) { a.mac = mac; await this.store.saveEndpoint(rec); }
    } catch (err) {
      await this.#dropAttachment(rec, a, false);
      throw err;
    }
    await this.#rewriteHosts(rec);
    this.#emit("connect", net, { container: containerId });
    if (rec.attachments.length === 1) await this.#writeFiles(rec, {name: rec.name}, rec.hostname, await readFile(rec.hostsFile, "utf8"));
  }

  async disconnect(idOrName: string, containerId: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.#init();
    const net = this.#find(idOrName);
    const rec = this.#endpoints.get(containerId);
    if (!rec) throw conflict(`container ${containerId} is not running`);
    const a = rec.attachments.find((x) => x.networkId === net.net.Id);
    if (!a) {
      if (opts.force) return;
      throw forbidden(`container ${containerId} is not connected to network ${net.net.Name}`);
    }
    await this.#dropAttachment(rec, a, true);
    await this.#rewriteHosts(rec);
    this.#emit("disconnect", net, { container: containerId });
  }

  async #dropAttachment(rec: EndpointRecord, a: Attachment, leave: boolean): Promise<void> {
    const net = this.#networks.get(a.networkId)!;
    if (leave) await this.driver.leave(this.#driverNet(net), { containerId: rec.containerId, netnsPath: rec.netnsPath, ifName: a.ifName, ip: a.ip, prefixLen: a.prefixLen });
    await this.#lock.run(async () => {
      rec.attachments = rec.attachments.filter((x) => x !== a);
      const hadPorts = rec.ports.some((p) => p.containerIp === a.ip);
      rec.ports = rec.ports.filter((p) => p.containerIp !== a.ip);
      await this.store.saveEndpoint(rec);
      if (net.ipam && net.ipam.allocated[a.ip] === rec.containerId) net.ipam = release(net.ipam, a.ip);
      if (hadPorts) await this.#applyFirewall();
    });
  }

  async #rewriteHosts(rec: EndpointRecord): Promise<void> {
    const own = rec.attachments.map((a) => ({ ip: a.ip, names: [rec.hostname] }));
    await atomicWrite(rec.hostsFile, renderHosts({ own, extraHosts: rec.extraHosts }));
  }

  // ---- daemon lifecycle ----------------------------------------------------------------------

  async restore(liveContainerIds?: Iterable<string>): Promise<void> {
    await this.#init();
    const live = liveContainerIds ? new Set(liveContainerIds) : null;
    for (const r of this.#networks.values()) {
      if (r.net.Driver === "bridge") await this.driver.createNetwork(this.#driverNet(r));
    }
    for (const rec of [...this.#endpoints.values()]) {
      const gone = (live && !live.has(rec.containerId)) || (rec.ownNetns && !(await netnsExists(rec.netnsPath)));
      if (gone) {
        await this.#teardown(rec).catch((err) => this.#log.warn("dropping stale endpoint", { container: rec.containerId, err }));
        continue;
      }
      for (const p of rec.ports) this.#ports.hold(rec.containerId, p);
    }
    // A namespace made while its endpoint record was being written, when the daemon died before the record landed.
    const named = new Set([...[...this.#endpoints.values()].map((e) => e.netnsPath), ...this.#spareNetns]);
    const nsDir = join(this.#o.execRoot, "netns");
    for (const f of await readdir(nsDir).catch(() => [] as string[])) {
      const path = join(nsDir, f);
      if (!named.has(path)) await removeNetns(path).catch((err) => this.#log.warn("removing an orphan namespace", { path, err }));
    }
    await this.#applyFirewall();
    for (const r of this.#networks.values()) {
      await this.#startDns(r).catch((err) => this.#log.warn("embedded DNS did not start", { network: r.net.Name, err }));
    }
  }

  /** Resolves when every background teardown started so far has finished. */
  async settled(): Promise<void> {
    while (this.#background.size) await Promise.all([...this.#background]);
  }

  /** Stop serving DNS. Containers, bridges and rules stay (live restore). */
  async close(): Promise<void> {
    await this.#dropSpareNetns();
    for (const id of [...this.#dns.keys()]) await this.#stopDns(id);
  }

  /** Remove everything this service made on the host: endpoints, bridges, chains (tests, uninstall). */
  async destroyAll(): Promise<void> {
    await this.#init();
    await this.close();
    for (const rec of [...this.#endpoints.values()]) await this.#teardown(rec).catch(() => {});
    for (const r of this.#networks.values()) if (r.net.Driver === "bridge") await this.driver.deleteNetwork(this.#driverNet(r)).catch(() => {});
    await this.firewall.teardown();
  }
}

/** A random per-instance chain prefix and bridge name for tests: two test daemons never collide. */
export function testNetworkNames(): { chainPrefix: string; defaultBridge: string; token: string } {
  const token = randomBytes(3).toString("hex");
  return { chainPrefix: `BT${token}`, defaultBridge: `brt-${token}`, token };
}

