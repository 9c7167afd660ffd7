/** In-memory fakes of the service contracts, for route tests only. */
import type { Readable, Writable } from "node:stream";
import { conflict, invalidArgument, notFound, notModified } from "../../errdefs/index.js";
import type {
  AttachOptions, ContainersService, ImagesService, LogEntry, LogOptions, PathStat, ResolvedImage, WaitCondition,
} from "../../services/types.js";
import type {
  ChangeItem, ContainerConfig, ContainerCreateBody, ContainerInspect, ContainerSummary, Filters, HostConfig,
  ImageDeleteItem, ImageHistoryItem, ImageInspect, ImageSummary, JsonMessage,
} from "../../spec/engine.js";

export interface FakeContainer {
  id: string;
  name: string;
  image: string;
  tty: boolean;
  state: "created" | "running" | "exited";
  logs: LogEntry[];
}

export class FakeContainersService implements ContainersService {
  containers = new Map<string, FakeContainer>();
  calls: { op: string; args: unknown[] }[] = [];
  /** Resolves pending waits; tests call it to finish a wait. */
  waiters: ((r: { StatusCode: number }) => void)[] = [];
  stdinSeen: Readable[] = [];

  add(c: Partial<FakeContainer> & { id: string }): FakeContainer {
    const full: FakeContainer = { name: c.id, image: "busybox", tty: false, state: "created", logs: [], ...c };
    this.containers.set(full.id, full);
    return full;
  }

  #get(id: string): FakeContainer {
    const c = this.containers.get(id) ?? [...this.containers.values()].find((x) => x.name === id);
    if (!c) throw notFound(`No such container: ${id}`);
    return c;
  }

  #log(op: string, ...args: unknown[]): void {
    this.calls.push({ op, args });
  }

  async create(body: ContainerCreateBody, opts?: { name?: string }) {
    this.#log("create", body, opts);
    if (body.Image === "missing") throw notFound(`No such image: ${body.Image}:latest`);
    const id = "c".repeat(64);
    const greeting = { stream: "stdout" as const, time: new Date().toISOString(), data: Buffer.from(`hello from ${(body.Cmd ?? []).join(" ")}\n`) };
    this.add({ id, name: opts?.name ?? "x", tty: body.Tty === true, image: body.Image ?? "", logs: [greeting] });
    return { Id: id, Warnings: [] };
  }
  async start(id: string) {
    const c = this.#get(id);
    if (c.state === "running") throw notModified();
    c.state = "running";
    // The fake container "exits" at once, like `true`.
    setTimeout(() => {
      c.state = "exited";
      for (const w of this.waiters.splice(0)) w({ StatusCode: 0 });
    }, 20);
  }
  async stop(id: string, opts?: { timeout?: number; signal?: string }) {
    this.#log("stop", id, opts);
    const c = this.#get(id);
    if (c.state !== "running") throw notModified();
    c.state = "exited";
  }
  async restart(id: string) { this.#get(id); }
  async kill(id: string, signal?: string) {
    this.#log("kill", id, signal);
    const c = this.#get(id);
    if (c.state !== "running") throw conflict(`Container ${id} is not running`);
  }
  async pause(id: string) { this.#get(id); }
  async unpause(id: string) { this.#get(id); }
  wait(id: string, condition?: WaitCondition) {
    this.#log("wait", id, condition);
    this.#get(id);
    return new Promise<{ StatusCode: number }>((resolve) => this.waiters.push(resolve));
  }
  async remove(id: string, opts?: { force?: boolean }) {
    const c = this.#get(id);
    if (c.state === "running" && !opts?.force) {
      throw conflict(`You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`);
    }
    this.containers.delete(c.id);
  }
  async list(opts?: { all?: boolean; filters?: Filters }): Promise<ContainerSummary[]> {
    this.#log("list", opts);
    return [...this.containers.values()]
      .filter((c) => opts?.all || c.state === "running")
      .map((c) => ({
        Id: c.id, Names: [`/${c.name}`], Image: c.image, ImageID: "", Command: "sh", Created: 0, Ports: [], Labels: {},
        State: c.state, Status: c.state, HostConfig: { NetworkMode: "none" }, NetworkSettings: { Networks: {} }, Mounts: [],
      }));
  }
  async inspect(id: string): Promise<ContainerInspect> {
    const c = this.#get(id);
    return { Id: c.id, Name: `/${c.name}`, Config: { Tty: c.tty, Image: c.image } } as unknown as ContainerInspect;
  }
  async *logs(id: string, opts: LogOptions): AsyncIterable<LogEntry> {
    this.#log("logs", id, opts);
    for (const e of this.#get(id).logs) {
      if ((e.stream === "stdout" && opts.stdout) || (e.stream === "stderr" && opts.stderr)) yield e;
    }
  }
  async *attach(id: string, opts: AttachOptions): AsyncIterable<LogEntry> {
    this.#log("attach", id, { ...opts, stdin: opts.stdin ? "stream" : null });
    if (opts.stdin) this.stdinSeen.push(opts.stdin);
    yield* this.#get(id).logs;
  }
  async rename(id: string, newName: string) { this.#get(id).name = newName; }
  async top(id: string) { this.#get(id); return { Titles: ["PID"], Processes: [["1"]] }; }
  async changes(id: string): Promise<ChangeItem[]> { this.#get(id); return [{ Path: "/tmp", Kind: 0 }]; }
  async export(id: string, out: Writable) { this.#get(id); out.end(Buffer.alloc(1024)); }
  async statPath(id: string, path: string): Promise<PathStat> {
    this.#get(id);
    if (path !== "/etc") throw notFound(`Could not find the file ${path} in container ${id}`);
    return { name: "etc", size: 4096, mode: 0o40755, mtime: "2026-01-01T00:00:00Z", linkTarget: "" };
  }
  async getArchive(id: string, path: string, out: Writable): Promise<PathStat> {
    const st = await this.statPath(id, path);
    // Like the real service: hand back the stat, keep streaming afterwards.
    setTimeout(() => out.end(Buffer.alloc(512)), 10);
    return st;
  }
  async putArchive(id: string, path: string, src: Readable, opts?: object) {
    this.#get(id);
    let n = 0;
    for await (const chunk of src) n += (chunk as Buffer).length;
    this.#log("putArchive", id, path, n, opts);
  }
  async commit(id: string, opts: object) { this.#log("commit", id, opts); this.#get(id); return "sha256:" + "a".repeat(64); }
  async prune() { return { ContainersDeleted: null, SpaceReclaimed: 0 }; }
  async update(id: string, hc: Partial<HostConfig>) { this.#log("update", id, hc); this.#get(id); return { Warnings: [] }; }
  async resize(id: string, h: number, w: number) { this.#log("resize", id, h, w); this.#get(id); }
  async connectNetwork(id: string, network: string) { this.#log("connectNetwork", id, network); this.#get(id); }
  async disconnectNetwork(id: string, network: string) { this.#log("disconnectNetwork", id, network); this.#get(id); }
  async restore() {}
  async close() {}
}

export class FakeImagesService implements ImagesService {
  calls: { op: string; args: unknown[] }[] = [];
  names = new Set<string>(["busybox:latest", "localhost:5000/a/b:latest"]);

  #log(op: string, ...args: unknown[]): void {
    this.calls.push({ op, args });
  }
  #has(ref: string): void {
    const r = ref.includes(":") && !ref.endsWith("]") && /:[^/]+$/.test(ref) ? ref : `${ref}:latest`;
    if (!this.names.has(r)) throw notFound(`No such image: ${r}`);
  }

  async list(opts?: { all?: boolean; filters?: Filters }): Promise<ImageSummary[]> {
    this.#log("list", opts);
    return [...this.names].map((n) => ({ Id: "sha256:" + "b".repeat(64), ParentId: "", RepoTags: [n], RepoDigests: [], Created: 0, Size: 1, SharedSize: -1, Labels: {}, Containers: -1 }));
  }
  async inspect(ref: string): Promise<ImageInspect> {
    this.#log("inspect", ref);
    this.#has(ref);
    return { Id: "sha256:" + "b".repeat(64), RepoTags: [ref] } as ImageInspect;
  }
  async history(ref: string): Promise<ImageHistoryItem[]> { this.#has(ref); return []; }
  async tag(ref: string, repo: string, tag?: string) { this.#log("tag", ref, repo, tag); this.#has(ref); }
  async remove(ref: string): Promise<ImageDeleteItem[]> { this.#has(ref); return [{ Untagged: ref }]; }
  async prune() { return { ImagesDeleted: null, SpaceReclaimed: 0 }; }
  async import(src: Readable, opts: { repo?: string; tag?: string; changes?: string[] }) {
    let n = 0;
    for await (const chunk of src) n += (chunk as Buffer).length;
    this.#log("import", n, opts);
    if (n === 0) throw invalidArgument("empty archive");
    return "sha256:" + "d".repeat(64);
  }
  async save(refs: string[], out: Writable) {
    for (const r of refs) this.#has(r);
    out.end(Buffer.alloc(1024));
  }
  async *load(src: Readable): AsyncIterable<JsonMessage> {
    let n = 0;
    for await (const chunk of src) n += (chunk as Buffer).length;
    yield { stream: "Loaded image: busybox:latest\n" };
    if (n < 10) throw invalidArgument("unexpected EOF");
  }
  async resolve(ref: string): Promise<ResolvedImage> {
    this.#has(ref);
    return { id: "sha256:" + "b".repeat(64), config: {} as ContainerConfig, topSnapshot: null, repoTags: [ref] };
  }
  async commitLayer() { return "sha256:" + "e".repeat(64); }
  async df() { return { images: await this.list(), layersSize: 0 }; }
}
