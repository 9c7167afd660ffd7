import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import type {
  ChangeItem, ContainerCreateBody, ContainerInspect, ContainerSummary, HostConfig, ImageDeleteItem,
  ImageHistoryItem, ImageInspect, ImageSummary, ContainerConfig, JsonMessage,
} from "../spec/engine.js";
import { encodeFilters } from "./filters.js";
import { resolveHost, type DaemonHost } from "./host.js";
import { jsonMessages } from "./json-messages.js";
import { Transport, type HijackedConnection } from "./transport.js";
import type {
  CreateResponse, DiskUsage, ExecCreateBody, ExecInspect, NetworkCreateRequest, NetworkEndpointConfig, NetworkResource, PathStat,
  PruneReport, SystemInfo, SystemVersion, TopResponse, UpdateResponse, VolumeSummary, WaitResponse,
} from "./types.js";

type Filters = Record<string, string[]>;
const enc = encodeURIComponent;

export interface LogsOptions {
  stdout?: boolean; stderr?: boolean; follow?: boolean; timestamps?: boolean; tail?: string;
  since?: string; until?: string; details?: boolean; signal?: AbortSignal;
}

export interface AttachOptions { stream?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean; logs?: boolean; detachKeys?: string; signal?: AbortSignal }

export class ContainersApi {
  constructor(private readonly t: Transport) {}

  list(opts: { all?: boolean; limit?: number; size?: boolean; filters?: Filters; signal?: AbortSignal } = {}): Promise<ContainerSummary[]> {
    return this.t.json("GET", "/containers/json", {
      query: { all: opts.all || undefined, limit: opts.limit, size: opts.size || undefined, filters: encodeFilters(opts.filters) },
      signal: opts.signal,
    });
  }

  create(body: ContainerCreateBody, opts: { name?: string; platform?: string; signal?: AbortSignal } = {}): Promise<CreateResponse> {
    return this.t.json("POST", "/containers/create", { query: { name: opts.name || undefined, platform: opts.platform || undefined }, body, signal: opts.signal });
  }

  inspect(id: string, opts: { size?: boolean; signal?: AbortSignal } = {}): Promise<ContainerInspect> {
    return this.t.json("GET", `/containers/${enc(id)}/json`, { query: { size: opts.size || undefined }, signal: opts.signal });
  }

  start(id: string, opts: { detachKeys?: string; signal?: AbortSignal } = {}): Promise<void> {
    return this.t.call("POST", `/containers/${enc(id)}/start`, { query: { detachKeys: opts.detachKeys }, signal: opts.signal });
  }

  stop(id: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    return this.t.call("POST", `/containers/${enc(id)}/stop`, { query: { t: opts.timeout, signal: opts.signal } });
  }

  restart(id: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    return this.t.call("POST", `/containers/${enc(id)}/restart`, { query: { t: opts.timeout, signal: opts.signal } });
  }

  kill(id: string, signal?: string): Promise<void> {
    return this.t.call("POST", `/containers/${enc(id)}/kill`, { query: { signal: signal || undefined } });
  }

  pause(id: string): Promise<void> { return this.t.call("POST", `/containers/${enc(id)}/pause`); }
  unpause(id: string): Promise<void> { return this.t.call("POST", `/containers/${enc(id)}/unpause`); }

  wait(id: string, opts: { condition?: "not-running" | "next-exit" | "removed"; signal?: AbortSignal } = {}): Promise<WaitResponse> {
    return this.t.json("POST", `/containers/${enc(id)}/wait`, { query: { condition: opts.condition }, signal: opts.signal });
  }

  remove(id: string, opts: { force?: boolean; volumes?: boolean; link?: boolean } = {}): Promise<void> {
    return this.t.call("DELETE", `/containers/${enc(id)}`, { query: { force: opts.force || undefined, v: opts.volumes || undefined, link: opts.link || undefined } });
  }

  rename(id: string, name: string): Promise<void> {
    return this.t.call("POST", `/containers/${enc(id)}/rename`, { query: { name } });
  }

  top(id: string, psArgs?: string): Promise<TopResponse> {
    return this.t.json("GET", `/containers/${enc(id)}/top`, { query: { ps_args: psArgs || undefined } });
  }

  changes(id: string): Promise<ChangeItem[] | null> {
    return this.t.json("GET", `/containers/${enc(id)}/changes`);
  }

  /** GET /containers/{id}/logs: multiplexed unless the container has a TTY. */
  logs(id: string, opts: LogsOptions = {}): Promise<IncomingMessage> {
    return this.t.request("GET", `/containers/${enc(id)}/logs`, {
      query: {
        stdout: opts.stdout ?? true, stderr: opts.stderr ?? true, follow: opts.follow || undefined,
        timestamps: opts.timestamps || undefined, tail: opts.tail, since: opts.since, until: opts.until, details: opts.details || undefined,
      },
      signal: opts.signal,
    });
  }

  /** GET /containers/{id}/stats: JSON lines every second (stream), or one reading (stream false; oneShot skips precpu). */
  stats(id: string, opts: { stream?: boolean; oneShot?: boolean; signal?: AbortSignal } = {}): Promise<IncomingMessage> {
    return this.t.request("GET", `/containers/${enc(id)}/stats`, {
      query: { stream: opts.stream ?? true, "one-shot": opts.oneShot || undefined }, signal: opts.signal,
    });
  }

  attach(id: string, opts: AttachOptions = {}): Promise<HijackedConnection> {
    return this.t.hijack("POST", `/containers/${enc(id)}/attach`, {
      query: {
        stream: opts.stream ?? true, stdin: opts.stdin || undefined, stdout: opts.stdout ?? true, stderr: opts.stderr ?? true,
        logs: opts.logs || undefined, detachKeys: opts.detachKeys,
      },
      signal: opts.signal,
    });
  }

  resize(id: string, height: number, width: number): Promise<void> {
    return this.t.call("POST", `/containers/${enc(id)}/resize`, { query: { h: height, w: width } });
  }

  export(id: string, signal?: AbortSignal): Promise<IncomingMessage> {
    return this.t.request("GET", `/containers/${enc(id)}/export`, { signal });
  }

  /** GET /containers/{id}/archive: a tar of the path, plus its stat from the X-Docker-Container-Path-Stat header. */
  async getArchive(id: string, path: string, signal?: AbortSignal): Promise<{ stream: IncomingMessage; stat: PathStat | undefined }> {
    const stream = await this.t.request("GET", `/containers/${enc(id)}/archive`, { query: { path }, signal });
    return { stream, stat: decodePathStat(stream.headers["x-docker-container-path-stat"]) };
  }

  /** HEAD /containers/{id}/archive: stat of a path inside the container. */
  async statPath(id: string, path: string): Promise<PathStat | undefined> {
    const res = await this.t.request("HEAD", `/containers/${enc(id)}/archive`, { query: { path } });
    res.resume();
    return decodePathStat(res.headers["x-docker-container-path-stat"]);
  }

  putArchive(id: string, path: string, tar: Readable, opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    return this.t.call("PUT", `/containers/${enc(id)}/archive`, {
      query: { path, noOverwriteDirNonDir: opts.noOverwriteDirNonDir ?? true, copyUIDGID: opts.copyUIDGID || undefined },
      stream: tar, signal: opts.signal,
    });
  }

  prune(filters?: Filters): Promise<PruneReport> {
    return this.t.json("POST", "/containers/prune", { query: { filters: encodeFilters(filters) } });
  }

  update(id: string, body: Partial<HostConfig>): Promise<UpdateResponse> {
    return this.t.json("POST", `/containers/${enc(id)}/update`, { body });
  }

  /** POST /commit: a new image from the container's changes. */
  commit(id: string, opts: { repo?: string; tag?: string; comment?: string; author?: string; pause?: boolean; changes?: string[]; config?: ContainerConfig } = {}): Promise<{ Id: string }> {
    return this.t.json("POST", "/commit", {
      query: { container: id, repo: opts.repo, tag: opts.tag, comment: opts.comment, author: opts.author, pause: opts.pause ?? true, changes: opts.changes },
      body: opts.config ?? {},
    });
  }
}

export class ExecApi {
  constructor(private readonly t: Transport) {}
  create(containerId: string, body: ExecCreateBody): Promise<{ Id: string }> {
    return this.t.json("POST", `/containers/${enc(containerId)}/exec`, { body });
  }
  start(execId: string, body: { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null }): Promise<HijackedConnection> {
    return this.t.hijack("POST", `/exec/${enc(execId)}/start`, { body });
  }
  startDetached(execId: string, body: { Tty?: boolean } = {}): Promise<void> {
    return this.t.call("POST", `/exec/${enc(execId)}/start`, { body: { ...body, Detach: true } });
  }
  inspect(execId: string): Promise<ExecInspect> {
    return this.t.json("GET", `/exec/${enc(execId)}/json`);
  }
  resize(execId: string, height: number, width: number): Promise<void> {
    return this.t.call("POST", `/exec/${enc(execId)}/resize`, { query: { h: height, w: width } });
  }
}

export class ImagesApi {
  constructor(private readonly t: Transport) {}

  list(opts: { all?: boolean; digests?: boolean; filters?: Filters; sharedSize?: boolean } = {}): Promise<ImageSummary[]> {
    return this.t.json("GET", "/images/json", {
      query: { all: opts.all || undefined, digests: opts.digests || undefined, filters: encodeFilters(opts.filters), "shared-size": opts.sharedSize || undefined },
    });
  }

  inspect(ref: string): Promise<ImageInspect> {
    return this.t.json("GET", `/images/${ref}/json`);
  }

  history(ref: string): Promise<ImageHistoryItem[]> {
    return this.t.json("GET", `/images/${ref}/history`);
  }

  tag(ref: string, repo: string, tag?: string): Promise<void> {
    return this.t.call("POST", `/images/${ref}/tag`, { query: { repo, tag: tag || undefined } });
  }

  remove(ref: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<ImageDeleteItem[]> {
    return this.t.json("DELETE", `/images/${ref}`, { query: { force: opts.force || undefined, noprune: opts.noprune || undefined } });
  }

  prune(filters?: Filters): Promise<PruneReport> {
    return this.t.json("POST", "/images/prune", { query: { filters: encodeFilters(filters) } });
  }

  /** POST /images/create?fromImage: a JSON-message stream. */
  async pull(fromImage: string, opts: { tag?: string; platform?: string; authConfig?: string; signal?: AbortSignal } = {}): Promise<AsyncGenerator<JsonMessage>> {
    const res = await this.t.request("POST", "/images/create", {
      query: { fromImage, tag: opts.tag, platform: opts.platform || undefined },
      ...(opts.authConfig ? { headers: { "X-Registry-Auth": opts.authConfig } } : {}),
      signal: opts.signal,
    });
    return jsonMessages(res);
  }

  /** POST /images/create?fromSrc=-: the tar goes in the body; answers a JSON-message stream whose status is the image id. */
  async import(tar: Readable, opts: { repo?: string; tag?: string; message?: string; changes?: string[]; platform?: string; signal?: AbortSignal } = {}): Promise<AsyncGenerator<JsonMessage>> {
    const res = await this.t.request("POST", "/images/create", {
      query: { fromSrc: "-", repo: opts.repo, tag: opts.tag, message: opts.message, changes: opts.changes, platform: opts.platform },
      stream: tar, signal: opts.signal,
    });
    return jsonMessages(res);
  }

  async load(tar: Readable, opts: { quiet?: boolean; signal?: AbortSignal } = {}): Promise<AsyncGenerator<JsonMessage>> {
    const res = await this.t.request("POST", "/images/load", { query: { quiet: opts.quiet ?? false }, stream: tar, signal: opts.signal });
    return jsonMessages(res);
  }

  /** GET /images/get?names=...: a docker-archive tar stream. */
  save(names: string[], signal?: AbortSignal): Promise<IncomingMessage> {
    return this.t.request("GET", "/images/get", { query: { names }, signal });
  }

  async push(name: string, opts: { tag?: string; authConfig?: string; signal?: AbortSignal } = {}): Promise<AsyncGenerator<JsonMessage>> {
    const res = await this.t.request("POST", `/images/${name}/push`, {
      query: { tag: opts.tag },
      headers: { "X-Registry-Auth": opts.authConfig ?? Buffer.from("{}").toString("base64") },
      signal: opts.signal,
    });
    return jsonMessages(res);
  }
}

export class SystemApi {
  constructor(private readonly t: Transport) {}
  ping(signal?: AbortSignal): Promise<{ headers: Record<string, unknown>; body: string }> { return this.t.ping(signal); }
  /** POST /auth: check credentials with a registry (the daemon logs in). */
  auth(config: { username?: string; password?: string; serveraddress?: string; identitytoken?: string }): Promise<{ Status: string; IdentityToken?: string }> {
    return this.t.json("POST", "/auth", { body: config });
  }
  version(): Promise<SystemVersion> { return this.t.json("GET", "/version"); }
  info(): Promise<SystemInfo> { return this.t.json("GET", "/info"); }
  df(opts: { verbose?: boolean } = {}): Promise<DiskUsage> { return this.t.json("GET", "/system/df", { query: { verbose: opts.verbose || undefined } }); }
  events(opts: { since?: string; until?: string; filters?: Filters; signal?: AbortSignal } = {}): Promise<IncomingMessage> {
    return this.t.request("GET", "/events", { query: { since: opts.since, until: opts.until, filters: encodeFilters(opts.filters) }, signal: opts.signal });
  }
}

export class NetworksApi {
  constructor(private readonly t: Transport) {}
  list(filters?: Filters): Promise<NetworkResource[]> {
    return this.t.json("GET", "/networks", { query: { filters: encodeFilters(filters) } });
  }
  inspect(id: string, opts: { verbose?: boolean } = {}): Promise<NetworkResource> {
    return this.t.json("GET", `/networks/${enc(id)}`, { query: { verbose: opts.verbose || undefined } });
  }
  create(body: NetworkCreateRequest): Promise<{ Id: string; Warning?: string }> {
    return this.t.json("POST", "/networks/create", { body });
  }
  remove(id: string): Promise<void> { return this.t.call("DELETE", `/networks/${enc(id)}`); }
  prune(filters?: Filters): Promise<{ NetworksDeleted?: string[] | null }> {
    return this.t.json("POST", "/networks/prune", { query: { filters: encodeFilters(filters) } });
  }
  connect(id: string, container: string, endpoint: NetworkEndpointConfig = {}): Promise<void> {
    return this.t.call("POST", `/networks/${enc(id)}/connect`, { body: { Container: container, EndpointConfig: endpoint } });
  }
  disconnect(id: string, container: string, opts: { force?: boolean } = {}): Promise<void> {
    return this.t.call("POST", `/networks/${enc(id)}/disconnect`, { body: { Container: container, Force: !!opts.force } });
  }
}

export class VolumesApi {
  constructor(private readonly t: Transport) {}
  list(filters?: Filters): Promise<{ Volumes?: VolumeSummary[] | null; Warnings?: string[] | null }> {
    return this.t.json("GET", "/volumes", { query: { filters: encodeFilters(filters) } });
  }
  inspect(name: string): Promise<VolumeSummary> { return this.t.json("GET", `/volumes/${enc(name)}`); }
  create(body: { Name?: string; Driver?: string; DriverOpts?: Record<string, string>; Labels?: Record<string, string> }): Promise<VolumeSummary> {
    return this.t.json("POST", "/volumes/create", { body });
  }
  remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    return this.t.call("DELETE", `/volumes/${enc(name)}`, { query: { force: opts.force || undefined } });
  }
  prune(filters?: Filters): Promise<{ VolumesDeleted?: string[] | null; SpaceReclaimed?: number }> {
    return this.t.json("POST", "/volumes/prune", { query: { filters: encodeFilters(filters) } });
  }
}

export interface BuildRequest {
  tags?: string[];
  dockerfile?: string;
  target?: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  noCache?: boolean;
  pull?: boolean;
  quiet?: boolean;
  networkMode?: string;
  cacheFrom?: string[];
  /** URL of a context tar (or a Dockerfile) for the daemon to fetch; the body is then empty. */
  remote?: string;
  /** Berth extensions: the cache key inputs of every step; structured step events. */
  explain?: boolean;
  events?: boolean;
  /** Berth extension: RUN --mount=type=secret values, sent base64 in the X-Berth-Build-Secrets header. */
  secrets?: Record<string, Buffer>;
  signal?: AbortSignal;
}

export class BuildApi {
  constructor(private readonly t: Transport) {}
  /** POST /build (the classic builder's endpoint): the context tar in the body; answers a JSON-message stream. */
  async build(context: Readable | null, o: BuildRequest = {}): Promise<AsyncGenerator<JsonMessage>> {
    const json = (m?: Record<string, string>) => (m && Object.keys(m).length ? JSON.stringify(m) : undefined);
    const secrets = o.secrets && Object.keys(o.secrets).length
      ? Buffer.from(JSON.stringify(Object.fromEntries(Object.entries(o.secrets).map(([k, v]) => [k, v.toString("base64")])))).toString("base64")
      : undefined;
    const res = await this.t.request("POST", "/build", {
      query: {
        t: o.tags?.length ? o.tags : undefined, dockerfile: o.dockerfile || undefined, target: o.target || undefined,
        buildargs: json(o.buildArgs), labels: json(o.labels), nocache: o.noCache || undefined, pull: o.pull || undefined,
        q: o.quiet || undefined, networkmode: o.networkMode || undefined,
        cachefrom: o.cacheFrom?.length ? JSON.stringify(o.cacheFrom) : undefined, remote: o.remote || undefined,
        explain: o.explain || undefined, berthevents: o.events || undefined, rm: true,
      },
      headers: { "Content-Type": "application/x-tar", ...(secrets ? { "X-Berth-Build-Secrets": secrets } : {}) },
      ...(context ? { stream: context } : {}), signal: o.signal,
    });
    return jsonMessages(res);
  }
  prune(opts: { all?: boolean; filters?: Filters } = {}): Promise<{ CachesDeleted?: string[] | null; SpaceReclaimed?: number }> {
    return this.t.json("POST", "/build/prune", { query: { all: opts.all || undefined, filters: encodeFilters(opts.filters) } });
  }
}

/** The typed Engine API client, grouped by resource. */
export class BerthClient {
  readonly transport: Transport;
  readonly containers: ContainersApi;
  readonly exec: ExecApi;
  readonly images: ImagesApi;
  readonly system: SystemApi;
  readonly networks: NetworksApi;
  readonly volumes: VolumesApi;
  readonly build: BuildApi;

  constructor(opts: { host?: DaemonHost; apiVersion?: string } = {}) {
    this.transport = new Transport(opts.host ?? resolveHost(undefined), { apiVersion: opts.apiVersion ?? (process.env.DOCKER_API_VERSION || undefined) });
    this.containers = new ContainersApi(this.transport);
    this.exec = new ExecApi(this.transport);
    this.images = new ImagesApi(this.transport);
    this.system = new SystemApi(this.transport);
    this.networks = new NetworksApi(this.transport);
    this.volumes = new VolumesApi(this.transport);
    this.build = new BuildApi(this.transport);
  }

  get host(): DaemonHost { return this.transport.host; }

  close(): void { this.transport.close(); }
}

function decodePathStat(header: string | string[] | undefined): PathStat | undefined {
  if (typeof header !== "string" || !header) return undefined;
  try {
    return JSON.parse(Buffer.from(header, "base64").toString("utf8")) as PathStat;
  } catch {
    return undefined;
  }
}
