/** Response bodies the client reads that src/spec/engine.ts does not (yet) describe. Loose on purpose: clients ignore unknown fields. */
import type { ContainerSummary, ImageSummary } from "../spec/engine.js";

export interface CreateResponse { Id: string; Warnings?: string[] | null }
export interface WaitResponse { StatusCode: number; Error?: { Message?: string } | null }
export interface TopResponse { Titles: string[]; Processes: string[][] }
export interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }
export interface PruneReport { ContainersDeleted?: string[] | null; ImagesDeleted?: ({ Untagged?: string; Deleted?: string })[] | null; SpaceReclaimed?: number }
export interface UpdateResponse { Warnings?: string[] | null }
export interface ExecCreateBody {
  AttachStdin?: boolean; AttachStdout?: boolean; AttachStderr?: boolean; DetachKeys?: string; Tty?: boolean;
  Env?: string[]; Cmd: string[]; Privileged?: boolean; User?: string; WorkingDir?: string; ConsoleSize?: [number, number] | null;
}
export interface ExecInspect { ID: string; Running: boolean; ExitCode: number | null; ProcessConfig?: unknown; ContainerID: string; Pid?: number; [k: string]: unknown }

export interface SystemVersion {
  Platform?: { Name: string };
  Components?: { Name: string; Version: string; Details?: Record<string, string> }[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os: string;
  Arch: string;
  KernelVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
}

export type SystemInfo = Record<string, unknown> & {
  ID?: string; Containers?: number; ContainersRunning?: number; ContainersPaused?: number; ContainersStopped?: number;
  Images?: number; Driver?: string; DriverStatus?: [string, string][] | null; ServerVersion?: string; Name?: string;
  KernelVersion?: string; OperatingSystem?: string; OSType?: string; Architecture?: string; NCPU?: number; MemTotal?: number;
  DockerRootDir?: string; CgroupDriver?: string; CgroupVersion?: string; DefaultRuntime?: string; LoggingDriver?: string;
  Runtimes?: Record<string, { path?: string }>; SecurityOptions?: string[]; Warnings?: string[] | null; Labels?: string[];
};

export interface VolumeSummary { Name: string; Driver: string; Mountpoint: string; Labels?: Record<string, string> | null; Scope?: string; Options?: Record<string, string> | null; Status?: Record<string, unknown>; UsageData?: { Size: number; RefCount: number } | null; CreatedAt?: string }
export interface IpamConfig { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }
export interface NetworkResource {
  Name: string; Id: string; Created?: string; Scope: string; Driver: string; EnableIPv4?: boolean; EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Options?: Record<string, string> | null; Config?: IpamConfig[] | null };
  Internal?: boolean; Attachable?: boolean; Ingress?: boolean; ConfigOnly?: boolean; ConfigFrom?: { Network: string };
  Containers?: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }> | null;
  Options?: Record<string, string> | null; Labels?: Record<string, string> | null;
}
/** POST /networks/create as the docker CLI sends it. */
export interface NetworkCreateRequest {
  Name: string; Driver?: string; Scope?: string; Internal?: boolean; Attachable?: boolean; Ingress?: boolean; ConfigOnly?: boolean;
  ConfigFrom?: { Network: string } | null; EnableIPv4?: boolean; EnableIPv6?: boolean;
  IPAM?: { Driver: string; Config: IpamConfig[]; Options: Record<string, string> };
  Options?: Record<string, string>; Labels?: Record<string, string>;
}
export interface NetworkEndpointConfig { IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null; Aliases?: string[]; Links?: string[]; DriverOpts?: Record<string, string> }
export interface BuildCacheRecord { ID: string; Type?: string; Description?: string; InUse?: boolean; Shared?: boolean; Size: number; CreatedAt?: string; LastUsedAt?: string | null; UsageCount?: number }

/** GET /system/df (API < 1.52 shape). */
export interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: ContainerSummary[] | null;
  Volumes?: VolumeSummary[] | null;
  BuildCache?: BuildCacheRecord[] | null;
}

export interface EventMessage { Type: string; Action: string; Actor: { ID: string; Attributes?: Record<string, string> }; scope?: string; time: number; timeNano: number }
