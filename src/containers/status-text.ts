/** Go's units.HumanDuration, as the daemon uses it for Status ("Up 3 seconds"). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3600000 + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

export interface StatusFacts {
  status: "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  /** State.Health.Status when the container has a healthcheck. */
  health?: "starting" | "healthy" | "unhealthy" | undefined;
}

/** The daemon's Status text for GET /containers/json (daemon/container/state.go String()). */
export function statusText(s: StatusFacts, now = Date.now()): string {
  switch (s.status) {
    case "running":
    case "paused": {
      const up = `Up ${humanDuration(now - Date.parse(s.startedAt))}`;
      if (s.status === "paused") return `${up} (Paused)`;
      if (s.health) return `${up} (${s.health === "starting" ? "health: starting" : s.health})`;
      return up;
    }
    case "restarting":
      return `Restarting (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case "removing":
      return "Removal In Progress";
    case "dead":
      return "Dead";
    case "created":
      return "Created";
    case "exited":
      if (s.finishedAt.startsWith("0001-")) return "Created";
      return `Exited (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
  }
}
