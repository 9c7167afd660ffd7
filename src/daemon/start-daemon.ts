import { mkdir, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { SystemService } from "../services/system-service.js";
import type { ContainersService, ImagesService } from "../services/types.js";
import type { BuildService } from "../services/build-service.js";
import type { DistributionService } from "../services/distribution-service.js";
import type { Logger } from "../util/index.js";
import { ApiServer } from "./api-server.js";
import { passesCleanupBarrier } from "./cleanup-barrier.js";
import { API_VERSION, MIN_API_VERSION } from "./api-version.js";
import { socketPathOf, type DaemonConfig } from "./config.js";
import { acquirePidfile } from "./pidfile.js";
import type { Route } from "./route.js";
import { containerRoutes } from "./routes/containers.js";
import { imageRoutes } from "./routes/images.js";
import { buildRoutes } from "./routes/build.js";
import { distributionRoutes } from "./routes/distribution.js";
import { systemRoutes } from "./routes/system.js";
import { emptyStoreRoutes, unimplementedRoutes } from "./routes/unimplemented.js";
import { execRoutes } from "./routes/exec.js";
import { statsRoutes, statsTargetOf } from "./routes/stats.js";
import { eventRoutes } from "./routes/events.js";
import { EventBus } from "../services/events.js";
import { ExecService } from "../services/exec-service.js";
import { prepareExecWorkDir } from "../services/exec-work-dir.js";
import { StatsSampler } from "../containers/stats-sampler.js";
import { networkRoutes } from "./routes/networks.js";
import { volumeRoutes } from "./routes/volumes.js";
import type { NetworksService } from "../services/networks-service.js";
import type { VolumesService } from "../services/volumes-service.js";

export interface DaemonServices {
  images: ImagesService;
  containers: ContainersService;
  build?: BuildService;
  /** Pull, push and login; without it those endpoints answer 501. */
  distribution?: DistributionService;
  networks?: NetworksService;
  volumes?: VolumesService;
  /** Stop watching; containers keep running under their monitors. */
  close(): Promise<void>;
}

export interface RunningDaemon {
  server: ApiServer;
  sockets: string[];
  /** The daemon's event stream, for events the composition root itself reports (daemon reload). */
  events: EventBus;
  /** The daemon's stable ID (GET /info's ID), the actor of daemon events. */
  engineId(): Promise<string>;
  close(): Promise<void>;
}

export interface StartDaemonOptions {
  logger: Logger;
  serverVersion: string;
  /** Open the services; each publishes its own events to the bus it is given. */
  openServices(events: EventBus): Promise<DaemonServices>;
}

/** Every Engine API route, in match order (static paths before greedy image names). */
export function engineRoutes(services: { images: ImagesService; containers: ContainersService; system: SystemService; build?: BuildService; distribution?: DistributionService; networks?: NetworksService; volumes?: VolumesService; exec?: ExecService; stats?: StatsSampler; events?: EventBus }): Route[] {
  const have = { networks: !!services.networks, volumes: !!services.volumes };
  return [
    // Before systemRoutes: its /events is a placeholder for daemons without an event bus.
    ...(services.events ? eventRoutes(services.events) : []),
    ...systemRoutes(services.system),
    ...(services.exec ? execRoutes(services.exec) : []),
    ...(services.stats ? statsRoutes(services.stats) : []),
    ...(services.build ? buildRoutes(services.build) : []),
    ...containerRoutes(services.containers),
    ...distributionRoutes(services.distribution),
    ...imageRoutes(services.images, services.distribution),
    ...(services.networks ? networkRoutes(services.networks, services.containers) : []),
    ...(services.volumes ? volumeRoutes(services.volumes) : []),
    ...emptyStoreRoutes(have),
    ...unimplementedRoutes(have),
  ];
}

/** Claim the data root, open the services, listen. Everything acquired is released again if a step fails. */
export async function startDaemon(cfg: DaemonConfig, opts: StartDaemonOptions): Promise<RunningDaemon> {
  const { logger } = opts;
  await mkdir(cfg.dataRoot, { recursive: true, mode: 0o711 });
  await mkdir(cfg.execRoot, { recursive: true, mode: 0o700 });
  const release = await acquirePidfile(join(cfg.dataRoot, "berthd.pid"), cfg.dataRoot);
  const undo: (() => Promise<void>)[] = [release];
  const rollback = async () => {
    for (const f of undo.reverse()) await f().catch((err) => logger.warn("cleanup failed", { error: err }));
  };
  try {
    undo.push(await prepareExecWorkDir(cfg.execRoot));
    const events = new EventBus();
    const services = await opts.openServices(events);
    undo.push(() => services.close());
    const exec = new ExecService({ containers: services.containers, execRoot: cfg.execRoot, runtime: cfg.runtime, events, logger: logger.child({ module: "exec" }) });
    const stats = new StatsSampler(statsTargetOf(services.containers));
    const system = new SystemService({
      images: services.images, containers: services.containers, volumes: services.volumes, dataRoot: cfg.dataRoot, runtime: cfg.runtime,
      serverVersion: opts.serverVersion, apiVersion: API_VERSION, minApiVersion: MIN_API_VERSION,
      registryMirrors: cfg.registryMirrors, insecureRegistries: cfg.insecureRegistries,
      ...(services.build ? { buildCache: () => services.build!.df() } : {}),
    });
    const server = new ApiServer({ routes: engineRoutes({ ...services, system, exec, stats, events }), logger: logger.child({ module: "api" }), serverVersion: opts.serverVersion,
      barrier: (method, path) => (passesCleanupBarrier(method, path) ? null : services.containers.settled?.() ?? null) });
    undo.push(() => server.close());
    const sockets: string[] = [];
    for (const host of cfg.hosts) {
      const path = socketPathOf(host);
      await mkdir(dirname(path), { recursive: true, mode: 0o755 });
      await server.listenUnix(path);
      sockets.push(path);
      undo.push(() => unlink(path).catch(() => {}));
    }
    return { server, sockets, events, engineId: () => system.engineId(), close: rollback };
  } catch (err) {
    await rollback();
    throw err;
  }
}
