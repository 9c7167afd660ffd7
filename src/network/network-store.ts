import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { atomicWriteJson } from "../util/index.js";
import type { IpamState } from "./ipam.js";
import type { PublishedPort } from "./port-publisher.js";

/** Docker's Network object (GET /networks/{id}) minus Containers, which is computed. */
export interface NetworkBody {
  Name: string;
  Id: string;
  Created: string;
  Scope: "local";
  Driver: string;
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: { Subnet: string; Gateway: string; IPRange?: string }[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export interface NetworkRecord { net: NetworkBody; bridge: string; ipam: IpamState | null; predefined: boolean }

export interface Attachment {
  networkId: string;
  endpointId: string;
  ifName: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  aliases: string[];
  requestedIp: string;
}

export interface EndpointRecord {
  containerId: string;
  name: string;
  hostname: string;
  mode: "bridge" | "host" | "none" | "container";
  sharedWith: string;
  netnsPath: string;
  ownNetns: boolean;
  attachments: Attachment[];
  ports: (PublishedPort & { containerIp: string })[];
  exposed: string[];
  extraHosts: { host: string; ip: string }[];
  hostsFile: string;
  resolvConf: string;
  hostnameFile: string;
}

/** Network records and endpoint records under <dataRoot>/networks, each written atomically. */
export class NetworkStore {
  constructor(readonly root: string) {}

  get endpointsDir(): string { return join(this.root, "endpoints"); }
  endpointDir(cid: string): string { return join(this.endpointsDir, cid); }

  async init(): Promise<void> {
    await mkdir(this.endpointsDir, { recursive: true });
  }

  async loadNetworks(): Promise<NetworkRecord[]> {
    const out: NetworkRecord[] = [];
    for (const f of await readdir(this.root)) {
      if (!f.endsWith(".json")) continue;
      out.push(JSON.parse(await readFile(join(this.root, f), "utf8")) as NetworkRecord);
    }
    return out;
  }

  saveNetwork(r: NetworkRecord): Promise<void> {
    return atomicWriteJson(join(this.root, `${r.net.Id}.json`), r);
  }

  async deleteNetwork(id: string): Promise<void> {
    await rm(join(this.root, `${id}.json`), { force: true });
  }

  async loadEndpoints(): Promise<EndpointRecord[]> {
    const out: EndpointRecord[] = [];
    for (const d of await readdir(this.endpointsDir)) {
      try { out.push(JSON.parse(await readFile(join(this.endpointsDir, d, "endpoint.json"), "utf8")) as EndpointRecord); } catch { /* no live endpoint */ }
    }
    return out;
  }

  saveEndpoint(r: EndpointRecord): Promise<void> {
    return atomicWriteJson(join(this.endpointDir(r.containerId), "endpoint.json"), r);
  }

  async deleteEndpoint(cid: string): Promise<void> {
    await rm(join(this.endpointDir(cid), "endpoint.json"), { force: true });
  }
}
