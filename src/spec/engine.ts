/**
 * Docker Engine API body shapes (see shared/reference/docker-engine-api.swagger.yaml).
 * Data only. Field names are Docker's, PascalCase, as they travel on the wire.
 * Extend these as more fields are implemented; keep them faithful to the swagger.
 */

export type Labels = Record<string, string>;

/** The image-side container config (ContainerConfig in swagger; also an image's Config). */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean | null;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean | null;
  OnBuild?: string[] | null;
  Labels?: Labels | null;
  StopSignal?: string | null;
  StopTimeout?: number | null;
  Shell?: string[] | null;
}

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
  StartInterval?: number;
}

/** One run of a healthcheck probe (HealthcheckResult). */
export interface HealthcheckResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** State.Health: the probe results so far (the last five, oldest first). */
export interface Health {
  Status: "starting" | "healthy" | "unhealthy";
  FailingStreak: number;
  Log: HealthcheckResult[];
}

/** Berth's HostConfig.HealthOnFailure: what to do when a container turns unhealthy. */
export type HealthOnFailure = "none" | "kill" | "restart" | "stop";

export interface RestartPolicy {
  Name: "" | "no" | "always" | "unless-stopped" | "on-failure";
  MaximumRetryCount?: number;
}

export interface MountSpec {
  Type: "bind" | "volume" | "tmpfs" | "image" | "npipe" | "cluster";
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Labels; DriverConfig?: { Name?: string; Options?: Record<string, string> }; Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] };
}

export interface PortBinding { HostIp?: string; HostPort?: string }

export interface HostConfig {
  Binds?: string[] | null;
  ContainerIDFile?: string;
  LogConfig?: { Type: string; Config?: Record<string, string> };
  NetworkMode?: string;
  PortBindings?: Record<string, PortBinding[] | null> | null;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  VolumeDriver?: string;
  VolumesFrom?: string[] | null;
  Mounts?: MountSpec[] | null;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  CgroupnsMode?: "private" | "host" | "";
  Dns?: string[] | null;
  DnsOptions?: string[] | null;
  DnsSearch?: string[] | null;
  ExtraHosts?: string[] | null;
  GroupAdd?: string[] | null;
  IpcMode?: string;
  Cgroup?: string;
  Links?: string[] | null;
  OomScoreAdj?: number;
  PidMode?: string;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  StorageOpt?: Record<string, string> | null;
  Tmpfs?: Record<string, string> | null;
  UTSMode?: string;
  UsernsMode?: string;
  ShmSize?: number;
  Sysctls?: Record<string, string> | null;
  Runtime?: string;
  Isolation?: string;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
  Init?: boolean | null;
  // Resources (inline in HostConfig on the wire)
  CpuShares?: number;
  Memory?: number;
  NanoCpus?: number;
  CgroupParent?: string;
  BlkioWeight?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  Devices?: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[] | null;
  DeviceCgroupRules?: string[] | null;
  MemoryReservation?: number;
  MemorySwap?: number;
  MemorySwappiness?: number | null;
  OomKillDisable?: boolean | null;
  PidsLimit?: number | null;
  Ulimits?: { Name: string; Soft: number; Hard: number }[] | null;
  /** Berth extension (the docker CLI cannot set it): the action when the container turns unhealthy. */
  HealthOnFailure?: HealthOnFailure;
  [extra: string]: unknown;
}

export interface EndpointSettings {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  NetworkID?: string;
  EndpointID?: string;
  Gateway?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  IPv6Gateway?: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  DNSNames?: string[] | null;
}

/** POST /containers/create body. */
export interface ContainerCreateBody extends ContainerConfig {
  HostConfig?: HostConfig;
  NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointSettings> };
}

export interface ContainerState {
  Status: "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: Health;
}

export interface MountPoint {
  Type: string;
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** GET /containers/{id}/json */
export interface ContainerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  ExecIDs: string[] | null;
  HostConfig: HostConfig;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts: MountPoint[];
  Config: ContainerConfig;
  NetworkSettings: {
    Bridge: string;
    SandboxID: string;
    SandboxKey: string;
    Ports: Record<string, PortBinding[] | null>;
    Networks: Record<string, EndpointSettings>;
    [extra: string]: unknown;
  };
}

/** GET /containers/json item */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Labels;
  State: string;
  Status: string;
  HostConfig: { NetworkMode: string };
  NetworkSettings: { Networks: Record<string, EndpointSettings> };
  Mounts: MountPoint[];
}

/** GET /images/json item */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Labels;
  Containers: number;
}

/** GET /images/{name}/json */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: ContainerConfig;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  VirtualSize?: number;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  RootFS: { Type: "layers"; Layers: string[] };
  Metadata: { LastTagTime: string };
}

/** GET /images/{name}/history item */
export interface ImageHistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** DELETE /images/{name} response item */
export type ImageDeleteItem = { Untagged: string } | { Deleted: string };

/** GET /containers/{id}/changes item: Kind 0 modified, 1 added, 2 deleted */
export interface ChangeItem { Path: string; Kind: 0 | 1 | 2 }

/** A JSON progress message as Docker streams them (pull, load, import, push, build). */
export interface JsonMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  aux?: unknown;
  error?: string;
  errorDetail?: { code?: number; message: string };
}

/** filters query parameter: {"key":["v1","v2"]} (older clients send {"key":{"v1":true}}). */
export type Filters = Record<string, string[]>;
