import type { Command } from "../../command.js";
import { bool, string } from "../../flags.js";
import type { DiskUsage } from "../../../client/types.js";
import { renderList } from "../../output/list-format.js";
import { TemplateContext } from "../../output/template.js";
import { humanSize, shortId, timeAgo, ellipsis } from "../../output/units.js";
import { CONTAINER_HEADERS, containerContext } from "../../output/container-context.js";
import { IMAGE_HEADERS, imageContexts } from "../../output/image-context.js";

const HEADERS = { Type: "TYPE", TotalCount: "TOTAL", Active: "ACTIVE", Size: "SIZE", Reclaimable: "RECLAIMABLE" };
const TABLE = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
const hs = (n: number) => humanSize(n, 4);
const pct = (part: number, total: number) => (total > 0 ? `${hs(part)} (${Math.trunc((part * 100) / total)}%)` : hs(part));

function row(type: string, total: number, active: number, size: number, reclaimable: string): TemplateContext {
  return new TemplateContext("*formatter.diskUsageContext", {
    Type: () => type, TotalCount: () => String(total), Active: () => String(active), Size: () => hs(size), Reclaimable: () => reclaimable,
  });
}

export function summaryRows(du: DiskUsage): TemplateContext[] {
  const images = du.Images ?? [], containers = du.Containers ?? [], volumes = du.Volumes ?? [], cache = du.BuildCache ?? [];
  const imagesSize = du.LayersSize ?? 0;
  let usedByImages = 0;
  for (const i of images) if (i.Containers !== 0 && i.Size !== -1 && i.SharedSize !== -1) usedByImages += i.Size - (i.SharedSize ?? 0);
  const activeContainers = containers.filter((c) => c.State === "running" || c.State === "paused");
  const containersSize = containers.reduce((s, c) => s + (c.SizeRw ?? 0), 0);
  const containersReclaimable = containers.filter((c) => !activeContainers.includes(c)).reduce((s, c) => s + (c.SizeRw ?? 0), 0);
  const volumesSize = volumes.reduce((s, v) => s + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const volumesReclaimable = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((s, v) => s + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const cacheSize = cache.filter((b) => !b.Shared).reduce((s, b) => s + b.Size, 0);
  const cacheReclaimable = cache.filter((b) => !b.InUse && !b.Shared).reduce((s, b) => s + b.Size, 0);
  return [
    row("Images", images.length, images.filter((i) => i.Containers > 0).length, imagesSize, pct(imagesSize - usedByImages, imagesSize)),
    row("Containers", containers.length, activeContainers.length, containersSize, pct(containersReclaimable, containersSize)),
    row("Local Volumes", volumes.length, volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length, volumesSize, pct(volumesReclaimable, volumesSize)),
    row("Build Cache", cache.length, cache.filter((b) => b.InUse).length, cacheSize, hs(cacheReclaimable)),
  ];
}

export const df: Command = {
  name: "system df",
  summary: "Show docker disk usage",
  usage: "[OPTIONS]",
  maxArgs: 0,
  flags: {
    format: string("", "Format output using a custom template"),
    verbose: bool("v", "Show detailed information on space usage"),
  },
  async run({ client, flags, out }) {
    const du = await client.system.df({ verbose: flags.bool("verbose") });
    if (!flags.bool("verbose")) {
      out.write(renderList(summaryRows(du), { format: flags.string("format"), defaultTable: TABLE, headers: HEADERS }));
      return;
    }
    const now = Date.now();
    out.line("Images space usage:\n");
    out.write(renderList(imageContexts(du.Images ?? [], { trunc: true, digests: false, now }), {
      format: "", defaultTable: "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}", headers: IMAGE_HEADERS,
    }));
    out.line("\nContainers space usage:\n");
    out.write(renderList((du.Containers ?? []).map((c) => containerContext({ ...c, SizeRootFs: 0 }, { trunc: true, now })), {
      format: "", defaultTable: "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}", headers: CONTAINER_HEADERS,
    }));
    out.line("\nLocal Volumes space usage:\n");
    out.write(renderList((du.Volumes ?? []).map((v) => new TemplateContext("*formatter.volumeContext", {
      Name: () => ellipsis(v.Name, 64), Links: () => String(v.UsageData?.RefCount ?? 0), Size: () => hs(Math.max(0, v.UsageData?.Size ?? 0)),
    })), { format: "", defaultTable: "table {{.Name}}\t{{.Links}}\t{{.Size}}", headers: { Name: "VOLUME NAME", Links: "LINKS", Size: "SIZE" } }));
    out.line("\nBuild cache usage: " + hs((du.BuildCache ?? []).reduce((s, b) => s + b.Size, 0)) + "\n");
    out.write(renderList((du.BuildCache ?? []).map((b) => new TemplateContext("*formatter.buildCacheContext", {
      ID: () => shortId(b.ID), CacheType: () => b.Type ?? "", Size: () => hs(b.Size),
      CreatedSince: () => (b.CreatedAt ? timeAgo(Date.parse(b.CreatedAt), now) : ""),
      LastUsedSince: () => (b.LastUsedAt ? timeAgo(Date.parse(b.LastUsedAt), now) : ""),
      UsageCount: () => String(b.UsageCount ?? 0), Shared: () => String(Boolean(b.Shared)),
    })), {
      format: "", defaultTable: "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}",
      headers: { ID: "CACHE ID", CacheType: "CACHE TYPE", Size: "SIZE", CreatedSince: "CREATED", LastUsedSince: "LAST USED", UsageCount: "USAGE", Shared: "SHARED" },
    }));
  },
};
