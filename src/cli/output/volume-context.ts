import type { VolumeSummary } from "../../client/types.js";
import { TemplateContext } from "./template.js";
import { humanSize } from "./units.js";
import { joinLabels } from "./network-context.js";
import { naturalLess } from "./natural-sort.js";

export const VOLUME_TABLE = "table {{.Driver}}\t{{.Name}}";
export const VOLUME_HEADERS: Record<string, string> = {
  Name: "VOLUME NAME", Driver: "DRIVER", Scope: "SCOPE", Mountpoint: "MOUNTPOINT", Labels: "LABELS", Links: "LINKS", Size: "SIZE",
  Group: "GROUP", Availability: "AVAILABILITY", Status: "STATUS",
};

/** docker's formatter.volumeContext: Links and Size only when the daemon measured them (system df). */
export function volumeContext(v: VolumeSummary): TemplateContext {
  const labels = v.Labels ?? {};
  const usage = v.UsageData && v.UsageData.Size !== -1 ? v.UsageData : null;
  return new TemplateContext("*formatter.volumeContext", {
    Name: () => v.Name,
    Driver: () => v.Driver,
    Scope: () => v.Scope ?? "local",
    Mountpoint: () => v.Mountpoint,
    Labels: () => joinLabels(labels),
    Links: () => (v.UsageData && v.UsageData.RefCount !== -1 ? String(v.UsageData.RefCount) : "N/A"),
    Size: () => (usage ? humanSize(usage.Size, 4) : "N/A"),
    Group: () => "N/A",
    Availability: () => "N/A",
    Status: () => "N/A",
  }, {
    Label: (k: unknown) => labels[String(k)] ?? "",
  });
}

export function sortVolumes(list: VolumeSummary[]): VolumeSummary[] {
  return [...list].sort((a, b) => (naturalLess(a.Name, b.Name) ? -1 : naturalLess(b.Name, a.Name) ? 1 : 0));
}
