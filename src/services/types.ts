/**
 * The use cases the Engine API exposes. Routes (daemon/routes) call these and nothing below them.
 * Errors are thrown by kind (errdefs) with Docker's wording where clients match on it.
 */
import type { Readable, Writable } from "node:stream";
import type {
  ChangeItem, ContainerCreateBody, ContainerInspect, ContainerSummary, Filters, HostConfig,
  ImageDeleteItem, ImageHistoryItem, ImageInspect, ImageSummary, ContainerConfig, JsonMessage,
} from "../spec/engine.js";

/** An image as the container side needs it. */
export interface ResolvedImage {
  id: string;                   // "sha256:<hex>" image id (digest of the config)
  config: ContainerConfig;      // the image's runtime config (Env, Cmd, Entrypoint, WorkingDir, User, ...)
  topSnapshot: string | null;   // committed snapshot name (chain id) of the top layer; null for an image with no layers
  repoTags: string[];
}

/** What the images side asks of the containers side (so rmi can refuse an image in use). */
export interface ImageUsage {
  containersUsing(imageId: string): Promise<{ id: string; running: boolean }[]>;
}

export interface CommitLayerOptions {
  parent: string | null;        // image id to build on, or null for a base image
  layer: Readable | null;       // uncompressed layer tar (with whiteouts), or null for a metadata-only step
  /** Instead of `layer`: an active snapshot on the parent's top whose upper dir is the layer; committed in place (consumed). */
  snapshot?: string;
  config: ContainerConfig;      // the new image's config
  createdBy?: string;           // history created_by
  comment?: string;
  historyComment?: string;      // on the new history entry only (build steps record their cache key here)
  author?: string;
  tag?: string;                 // reference to point at the new image ("repo:tag")
  signal?: AbortSignal;
}

export interface ImagesService {
  list(opts?: { all?: boolean; filters?: Filters; digests?: boolean }): Promise<ImageSummary[]>;
  inspect(ref: string): Promise<ImageInspect>;
  history(ref: string): Promise<ImageHistoryItem[]>;
  /** tag: repo may include a tag ("a:b") when tag is empty. */
  tag(ref: string, repo: string, tag?: string): Promise<void>;
  remove(ref: string, opts?: { force?: boolean; noprune?: boolean }): Promise<ImageDeleteItem[]>;
  prune(opts?: { filters?: Filters }): Promise<{ ImagesDeleted: ImageDeleteItem[] | null; SpaceReclaimed: number }>;
  /** docker import: a (possibly compressed) rootfs tar becomes a one-layer image. Returns the image id. */
  import(src: Readable, opts: { repo?: string; tag?: string; changes?: string[]; message?: string; signal?: AbortSignal }): Promise<string>;
  /** docker save: a docker-archive tar of the named images (manifest.json, repositories, OCI layout). */
  save(refs: string[], out: Writable, opts?: { signal?: AbortSignal }): Promise<void>;
  /** docker load: docker-archive or OCI layout, gzip'd or plain. Yields Docker's messages ("Loaded image: x:y"). */
  load(src: Readable, opts?: { signal?: AbortSignal }): AsyncIterable<JsonMessage>;
  /** For containers. not-found "No such image: <ref>". */
  resolve(ref: string): Promise<ResolvedImage>;
  /** A new image from a layer (or none) on a parent image. Used by import, commit and the builder. */
  commitLayer(opts: CommitLayerOptions): Promise<string>;
  /** Bytes used by images (for system df). */
  df(): Promise<{ images: ImageSummary[]; layersSize: number }>;
}

export type WaitCondition = "not-running" | "next-exit" | "removed";

export interface LogOptions {
  stdout?: boolean;
  stderr?: boolean;
  follow?: boolean;
  since?: number;              // unix seconds (fractional allowed)
  until?: number;
  timestamps?: boolean;
  tail?: number | "all";
  signal?: AbortSignal;
}

export interface LogEntry {
  stream: "stdout" | "stderr";
  time: string;                // RFC 3339 with nanoseconds as stored by the monitor
  data: Buffer;                // one line, including its "\n" unless it was a partial line
}

export interface AttachOptions {
  stream?: boolean;
  logs?: boolean;
  stdin?: Readable | null;
  stdout?: boolean;
  stderr?: boolean;
  signal?: AbortSignal;
}

export interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

export interface ContainersService {
  create(body: ContainerCreateBody, opts?: { name?: string; platform?: string }): Promise<{ Id: string; Warnings: string[] }>;
  start(id: string): Promise<void>;                               // not-modified if already running
  stop(id: string, opts?: { timeout?: number; signal?: string }): Promise<void>;  // not-modified if not running
  restart(id: string, opts?: { timeout?: number; signal?: string }): Promise<void>;
  kill(id: string, signal?: string): Promise<void>;              // conflict "Container <id> is not running"
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
  wait(id: string, condition?: WaitCondition, signal?: AbortSignal): Promise<{ StatusCode: number; Error?: { Message: string } | null }>;
  remove(id: string, opts?: { force?: boolean; volumes?: boolean; link?: boolean }): Promise<void>;
  list(opts?: { all?: boolean; limit?: number; size?: boolean; filters?: Filters }): Promise<ContainerSummary[]>;
  inspect(id: string, opts?: { size?: boolean }): Promise<ContainerInspect>;
  logs(id: string, opts: LogOptions): AsyncIterable<LogEntry>;
  /** Output of the container from now on (and the log first with logs=true), until it exits or the signal aborts. */
  attach(id: string, opts: AttachOptions): AsyncIterable<LogEntry>;
  rename(id: string, newName: string): Promise<void>;
  top(id: string, psArgs?: string): Promise<{ Titles: string[]; Processes: string[][] }>;
  changes(id: string): Promise<ChangeItem[]>;
  export(id: string, out: Writable, signal?: AbortSignal): Promise<void>;
  statPath(id: string, path: string): Promise<PathStat>;
  getArchive(id: string, path: string, out: Writable, signal?: AbortSignal): Promise<PathStat>;
  putArchive(id: string, path: string, src: Readable, opts?: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean; signal?: AbortSignal }): Promise<void>;
  commit(id: string, opts: { repo?: string; tag?: string; comment?: string; author?: string; changes?: string[]; pause?: boolean; config?: ContainerConfig }): Promise<string>;
  prune(opts?: { filters?: Filters }): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>;
  update(id: string, hostConfig: Partial<HostConfig>): Promise<{ Warnings: string[] }>;
  resize(id: string, h: number, w: number): Promise<void>;
  /** POST /networks/{id}/connect: live when the container is running, else kept in its record for the next start. */
  connectNetwork(id: string, network: string, opts?: { aliases?: string[]; ip?: string }): Promise<void>;
  disconnectNetwork(id: string, network: string, opts?: { force?: boolean }): Promise<void>;
  /** Reconcile with what happened while the daemon was down: re-adopt running containers, record exits, apply restart policies. */
  restore(): Promise<void>;
  /** Stop watching (containers keep running under their monitors). */
  close(): Promise<void>;
  /**
   * Resolves once no removed container has host state left. A --rm container leaves the store (and its waiters are
   * answered) before its mounts, endpoint and files are gone; a request that could see those waits for this first.
   */
  settled?(): Promise<void>;
}
