import type { ContainerSummary } from "../../spec/engine.js";
import { familiarString, parseReference } from "../../spec/reference.js";
import { displayablePorts } from "./ports.js";
import { TemplateContext } from "./template.js";
import { ellipsis, goTimeString, humanSize, shortId, timeAgo } from "./units.js";

export const CONTAINER_TABLE = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
export const CONTAINER_HEADERS: Record<string, string> = {
  ID: "CONTAINER ID", Image: "IMAGE", Command: "COMMAND", CreatedAt: "CREATED AT", RunningFor: "CREATED", Ports: "PORTS",
  State: "STATE", Status: "STATUS", Size: "SIZE", Names: "NAMES", Labels: "LABELS", Mounts: "MOUNTS",
  LocalVolumes: "LOCAL VOLUMES", Networks: "NETWORKS",
};

function imageColumn(c: ContainerSummary, trunc: boolean): string {
  if (!c.Image) return "<no image>";
  if (trunc) {
    if (c.ImageID && shortId(c.ImageID) === shortId(c.Image)) return shortId(c.Image);
    try {
      const ref = parseReference(c.Image);
      return familiarString({ ...ref, digest: null });
    } catch { /* not a reference: show as given */ }
  }
  return c.Image;
}

function namesColumn(c: ContainerSummary, trunc: boolean): string {
  const names = (c.Names ?? []).map((n) => n.replace(/^\//, ""));
  if (trunc) return names.find((n) => !n.includes("/")) ?? names[0] ?? "";
  return names.join(",");
}

/** One row of `ps`: docker's formatter.ContainerContext. */
export function containerContext(c: ContainerSummary, opts: { trunc: boolean; now?: number }): TemplateContext {
  const trunc = opts.trunc;
  const labels = c.Labels ?? {};
  return new TemplateContext("*formatter.ContainerContext", {
    ID: () => (trunc ? shortId(c.Id) : c.Id),
    Image: () => imageColumn(c, trunc),
    Command: () => JSON.stringify(trunc ? ellipsis(c.Command ?? "", 20) : c.Command ?? ""),
    CreatedAt: () => goTimeString(new Date(c.Created * 1000)),
    RunningFor: () => timeAgo(c.Created * 1000, opts.now),
    Ports: () => displayablePorts(c.Ports ?? []),
    State: () => c.State,
    Status: () => c.Status,
    Size: () => {
      const rw = humanSize(c.SizeRw ?? 0);
      return (c.SizeRootFs ?? 0) > 0 ? `${rw} (virtual ${humanSize(c.SizeRootFs!)})` : rw;
    },
    Names: () => namesColumn(c, trunc),
    Labels: () => Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(","),
    Mounts: () => (c.Mounts ?? []).map((m) => { const n = m.Name || m.Source; return trunc ? ellipsis(n, 15) : n; }).join(","),
    LocalVolumes: () => String((c.Mounts ?? []).filter((m) => m.Driver === "local").length),
    Networks: () => Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(","),
    Platform: () => null,
  }, {
    Label: (k: unknown) => labels[String(k)] ?? "",
  });
}
