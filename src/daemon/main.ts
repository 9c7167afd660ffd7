import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import type { EventSink } from "../services/events.js";
import { performance } from "node:perf_hooks";
import type { Logger } from "../util/index.js";
import { loadConfig, reloadConfig, usage, type DaemonConfig } from "./config.js";
import { startDaemon, type DaemonServices, type RunningDaemon } from "./start-daemon.js";
import { messageOf } from "./error-status.js";
import { SwitchableLogger } from "./switchable-logger.js";

/** The composition root: the real images and containers services over the data root. */
async function openLocalServices(cfg: DaemonConfig, logger: Logger, events: EventSink): Promise<DaemonServices> {
  // Imported here, not at the top, so `berthd --help` and config errors stay instant.
  const [{ LocalImagesService }, { LocalContainersService }, { BuildService }, { DistributionService }] = await Promise.all([
    import("../services/images-service.js"),
    import("../services/containers-service.js"),
    import("../services/build-service.js"),
    import("../services/distribution-service.js"),
  ]);
  const images = await LocalImagesService.open({ dataRoot: cfg.dataRoot, logger: logger.child({ module: "images" }), events });
  const { networks, volumes } = await openNetVol(cfg, logger, events);
  let containers: Awaited<ReturnType<typeof LocalContainersService.open>> | undefined;
  try {
    containers = await LocalContainersService.open({
      dataRoot: cfg.dataRoot, execRoot: cfg.execRoot, runtime: cfg.runtime, images, snapshotter: images.snapshotter,
      logger: logger.child({ module: "containers" }), networks, volumes, events,
    });
    images.setUsage(containers);
    await containers.restore();
  } catch (err) {
    await containers?.close().catch(() => {});
    await networks.close().catch(() => {});
    await closeIfPossible(images).catch(() => {});
    throw err;
  }
  const c = containers;
  const build = new BuildService({ images, containers: c, dataRoot: cfg.dataRoot, logger });
  await build.init();
  const distribution = new DistributionService({
    images, content: images.content, logger,
    config: {
      insecureRegistries: cfg.insecureRegistries, registryMirrors: cfg.registryMirrors, allowedRegistries: cfg.allowedRegistries,
      maxConcurrentDownloads: cfg.maxConcurrentDownloads, maxConcurrentUploads: cfg.maxConcurrentUploads,
    },
  });
  const registry = await startEmbeddedRegistry(cfg, logger).catch(async (err) => {
    await c.close().catch(() => {});
    await closeIfPossible(images).catch(() => {});
    throw err;
  });
  return {
    images,
    containers: c,
    build,
    distribution,
    networks,
    volumes,
    async close() {
      await registry?.close();
      await c.close();
      await networks.close();
      await closeIfPossible(images);
    },
  };
}

/** Networks and volumes; DNS forwarding stays off and containers never see the host's resolver. */
async function openNetVol(cfg: DaemonConfig, logger: Logger, events: EventSink) {
  const [{ LocalNetworksService }, { LocalVolumesService }] = await Promise.all([
    import("../services/networks-service.js"),
    import("../services/volumes-service.js"),
  ]);
  const networks = new LocalNetworksService({
    dataRoot: cfg.dataRoot, execRoot: cfg.execRoot, chainPrefix: cfg.chainPrefix, defaultBridge: cfg.bridge,
    ...(cfg.bip ? { bip: cfg.bip } : {}), ...(cfg.defaultAddressPools.length ? { defaultAddressPools: cfg.defaultAddressPools } : {}),
    dns: cfg.dns, hostResolvConf: null, log: logger.child({ module: "networks" }), events,
  });
  return { networks, volumes: new LocalVolumesService({ dataRoot: cfg.dataRoot, events }) };
}

/** daemon.json "registry": an OCI registry served by berthd itself, with its own root. */
async function startEmbeddedRegistry(cfg: DaemonConfig, logger: Logger): Promise<{ close(): Promise<void> } | null> {
  if (!cfg.registry) return null;
  const { serveRegistry } = await import("../registry/index.js");
  const r = cfg.registry;
  return serveRegistry({
    root: r.root, addr: r.addr, logger: logger.child({ module: "registry" }),
    ...(r.htpasswd ? { htpasswd: r.htpasswd } : {}), ...(r.tlsCert ? { tlsCert: r.tlsCert } : {}), ...(r.tlsKey ? { tlsKey: r.tlsKey } : {}),
    ...(r.readOnly ? { readOnly: true } : {}), ...(r.delete ? { delete: true } : {}),
  });
}

async function closeIfPossible(svc: object): Promise<void> {
  const close = (svc as { close?: () => Promise<void> }).close;
  if (typeof close === "function") await close.call(svc);
}

async function packageVersion(): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "0.0.0-dev";
  } catch {
    return "0.0.0-dev";
  }
}

/** berthd [--data-root DIR] [--exec-root DIR] [--host unix:///path.sock] [--runtime runc|crun] [--config FILE] [--log-level LEVEL] */
export async function main(argv: string[]): Promise<void> {
  const t0 = performance.now();
  let cfg: Awaited<ReturnType<typeof loadConfig>>;
  try {
    cfg = await loadConfig(argv);
  } catch (err) {
    process.stderr.write(`berthd: ${messageOf(err)}\n`);
    process.exitCode = 1;
    return;
  }
  const version = await packageVersion();
  if (cfg.help) {
    process.stdout.write(usage());
    return;
  }
  if (cfg.version) {
    process.stdout.write(`Berth version ${version}\n`);
    return;
  }
  const logger = new SwitchableLogger(cfg.logLevel);
  let daemon: RunningDaemon;
  try {
    daemon = await startDaemon(cfg, { logger, serverVersion: version, openServices: (events) => openLocalServices(cfg, logger, events) });
  } catch (err) {
    logger.error("failed to start daemon", { error: messageOf(err) });
    // Half-opened services may hold handles; nothing more will happen in this process.
    process.exit(1);
  }
  logger.info("berthd ready", { version, dataRoot: cfg.dataRoot, hosts: daemon.sockets, startupMs: Math.round(performance.now() - t0), sinceProcessStartMs: Math.round(performance.now()) });

  // One stray rejection in a request must not take down the daemon (and every attach and wait with it).
  process.on("unhandledRejection", (reason) => logger.error("unhandled rejection", { error: messageOf(reason) }));

  let stopping = false;
  const shutdown = (sig: string) => {
    if (stopping) {
      logger.warn("second signal during shutdown, exiting now", { signal: sig });
      process.exit(1);
    }
    stopping = true;
    logger.info("shutting down", { signal: sig });
    daemon.close().then(
      () => {
        logger.info("berthd stopped");
        process.exit(0);
      },
      (err) => {
        logger.error("shutdown failed", { error: messageOf(err) });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGHUP", () => {
    reloadConfig(cfg.configFile).then(
      (next) => {
        if (next.logLevel && next.logLevel !== logger.level) logger.setLevel(next.logLevel);
        logger.info("reloaded configuration", { file: cfg.configFile, logLevel: logger.level });
        void daemon.engineId().catch(() => "").then((id) => {
          const changed = Object.fromEntries(Object.entries(next).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
          daemon.events.publish("daemon", "reload", id.trim(), { name: hostname(), "log-level": logger.level, ...changed });
        });
      },
      (err) => logger.error("reloading configuration failed", { error: messageOf(err) }),
    );
  });
}
