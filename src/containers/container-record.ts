import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ContainerConfig, ContainerState, EndpointSettings, Health, HostConfig, MountPoint } from "../spec/engine.js";
import { atomicWriteJson } from "../util/index.js";

/** What the daemon keeps per container (config.v2.json), state included, written atomically. */
export interface ContainerRecord {
  id: string;
  name: string;                 // "/name"
  created: string;
  image: string;                // as the user named it
  imageId: string;              // "sha256:..."
  config: ContainerConfig;
  hostConfig: HostConfig;
  networking: Record<string, EndpointSettings>;
  /** NetworkingConfig.EndpointsConfig of create (aliases, --ip), applied at every start. */
  endpointsConfig?: Record<string, EndpointSettings> | null;
  /** Set once a network was disconnected: the names of the networks to join at the next start, and no others. */
  joinOnly?: string[];
  path: string;
  args: string[];
  snapshotKey: string;
  platform: string;
  mounts: MountPoint[];
  restartCount: number;
  manuallyStopped: boolean;
  hasBeenStarted: boolean;
  state: {
    status: ContainerState["Status"];
    pid: number;
    conmonPid: number;
    exitCode: number;
    error: string;
    startedAt: string;
    finishedAt: string;
    oomKilled: boolean;
  };
  /** State.Health: absent until a container with a healthcheck first starts. */
  health?: Health;
}

export const RECORD_FILE = "config.v2.json";

export async function saveRecord(dir: string, rec: ContainerRecord): Promise<void> {
  await atomicWriteJson(join(dir, RECORD_FILE), rec, 0o600);
}

/** Every record under root; ids of directories without a record (half-created) are returned apart. */
export async function loadRecords(root: string): Promise<{ records: ContainerRecord[]; orphans: string[] }> {
  const records: ContainerRecord[] = [];
  const orphans: string[] = [];
  let names: string[] = [];
  try {
    names = await readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  for (const id of names) {
    if (!/^[a-f0-9]{64}$/.test(id)) continue;
    try {
      records.push(JSON.parse(await readFile(join(root, id, RECORD_FILE), "utf8")) as ContainerRecord);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || err instanceof SyntaxError) orphans.push(id);
      else throw err;
    }
  }
  return { records, orphans };
}
