import type { Command } from "./command.js";

export interface CommandEntry {
  /** First the canonical name, then every alias that dispatches here. */
  names: string[];
  load: () => Promise<Command>;
}

/** Every command, lazily loaded so that start-up only pays for the one that runs. */
export const COMMANDS: CommandEntry[] = [
  { names: ["container run", "run"], load: async () => (await import("./commands/container/run.js")).run },
  { names: ["container create", "create"], load: async () => (await import("./commands/container/create.js")).create },
  { names: ["container start", "start"], load: async () => (await import("./commands/container/start.js")).start },
  { names: ["container stop", "stop"], load: async () => (await import("./commands/container/stop.js")).stop },
  { names: ["container restart", "restart"], load: async () => (await import("./commands/container/restart.js")).restart },
  { names: ["container kill", "kill"], load: async () => (await import("./commands/container/kill.js")).kill },
  { names: ["container pause", "pause"], load: async () => (await import("./commands/container/pause.js")).pause },
  { names: ["container unpause", "unpause"], load: async () => (await import("./commands/container/unpause.js")).unpause },
  { names: ["container wait", "wait"], load: async () => (await import("./commands/container/wait.js")).wait },
  { names: ["container rm", "container remove", "rm"], load: async () => (await import("./commands/container/rm.js")).rm },
  { names: ["container ls", "container list", "container ps", "ps"], load: async () => (await import("./commands/container/ls.js")).ls },
  { names: ["container inspect"], load: async () => (await import("./commands/container/inspect.js")).inspect },
  { names: ["container logs", "logs"], load: async () => (await import("./commands/container/logs.js")).logs },
  { names: ["container rename", "rename"], load: async () => (await import("./commands/container/rename.js")).rename },
  { names: ["container top", "top"], load: async () => (await import("./commands/container/top.js")).top },
  { names: ["container diff", "diff"], load: async () => (await import("./commands/container/diff.js")).diff },
  { names: ["container export", "export"], load: async () => (await import("./commands/container/export.js")).exportCommand },
  { names: ["container cp", "cp"], load: async () => (await import("./commands/container/cp.js")).cp },
  { names: ["container commit", "commit"], load: async () => (await import("./commands/container/commit.js")).commit },
  { names: ["container prune"], load: async () => (await import("./commands/container/prune.js")).prune },
  { names: ["container update", "update"], load: async () => (await import("./commands/container/update.js")).update },
  { names: ["container port", "port"], load: async () => (await import("./commands/container/port.js")).port },
  { names: ["container attach", "attach"], load: async () => (await import("./commands/container/attach.js")).attach },
  { names: ["container stats", "stats"], load: async () => (await import("./commands/container/stats.js")).stats },
  { names: ["container exec", "exec"], load: async () => (await import("./commands/container/exec.js")).exec },
  { names: ["image ls", "image list", "images"], load: async () => (await import("./commands/image/ls.js")).ls },
  { names: ["image inspect"], load: async () => (await import("./commands/image/inspect.js")).inspect },
  { names: ["image tag", "tag"], load: async () => (await import("./commands/image/tag.js")).tag },
  { names: ["image rm", "image remove", "rmi"], load: async () => (await import("./commands/image/rm.js")).rm },
  { names: ["image history", "history"], load: async () => (await import("./commands/image/history.js")).history },
  { names: ["image prune"], load: async () => (await import("./commands/image/prune.js")).prune },
  { names: ["image import", "import"], load: async () => (await import("./commands/image/import.js")).importCommand },
  { names: ["image save", "save"], load: async () => (await import("./commands/image/save.js")).save },
  { names: ["image load", "load"], load: async () => (await import("./commands/image/load.js")).load },
  { names: ["image pull", "pull"], load: async () => (await import("./commands/image/pull.js")).pull },
  { names: ["image push", "push"], load: async () => (await import("./commands/image/push.js")).push },
  { names: ["image build", "build", "builder build"], load: async () => (await import("./commands/build/build.js")).build },
  { names: ["builder prune"], load: async () => (await import("./commands/builder/prune.js")).prune },
  { names: ["network create"], load: async () => (await import("./commands/network/create.js")).create },
  { names: ["network ls", "network list"], load: async () => (await import("./commands/network/ls.js")).ls },
  { names: ["network inspect"], load: async () => (await import("./commands/network/inspect.js")).inspect },
  { names: ["network rm", "network remove"], load: async () => (await import("./commands/network/rm.js")).rm },
  { names: ["network prune"], load: async () => (await import("./commands/network/prune.js")).prune },
  { names: ["network connect"], load: async () => (await import("./commands/network/connect.js")).connect },
  { names: ["network disconnect"], load: async () => (await import("./commands/network/disconnect.js")).disconnect },
  { names: ["volume create"], load: async () => (await import("./commands/volume/create.js")).create },
  { names: ["volume ls", "volume list"], load: async () => (await import("./commands/volume/ls.js")).ls },
  { names: ["volume inspect"], load: async () => (await import("./commands/volume/inspect.js")).inspect },
  { names: ["volume rm", "volume remove"], load: async () => (await import("./commands/volume/rm.js")).rm },
  { names: ["volume prune"], load: async () => (await import("./commands/volume/prune.js")).prune },
  { names: ["inspect"], load: async () => (await import("./commands/inspect.js")).inspect },
  { names: ["version"], load: async () => (await import("./commands/system/version.js")).version },
  { names: ["system info", "info"], load: async () => (await import("./commands/system/info.js")).info },
  { names: ["system df"], load: async () => (await import("./commands/system/df.js")).df },
  { names: ["system prune"], load: async () => (await import("./commands/system/prune.js")).prune },
  { names: ["system events", "events"], load: async () => (await import("./commands/system/events.js")).events },
  { names: ["login"], load: async () => (await import("./commands/registry/login.js")).login },
  { names: ["logout"], load: async () => (await import("./commands/registry/logout.js")).logout },
  { names: ["registry serve"], load: async () => (await import("./commands/registry/serve.js")).serve },
];

export const GROUPS: Record<string, string> = {
  container: "Manage containers",
  image: "Manage images",
  network: "Manage networks",
  system: "Manage Berth",
  volume: "Manage volumes",
  registry: "Run an OCI registry",
  builder: "Manage builds",
};

/** Finds the entry for argv's leading words: "container ls ..." or "ps ...". */
export function lookup(words: string[]): { entry: CommandEntry; used: number; name: string } | undefined {
  for (const used of [2, 1]) {
    if (words.length < used) continue;
    const name = words.slice(0, used).join(" ");
    const entry = COMMANDS.find((e) => e.names.includes(name));
    if (entry) return { entry, used, name };
  }
  return undefined;
}
