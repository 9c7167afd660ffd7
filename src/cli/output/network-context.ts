import type { NetworkResource } from "../../client/types.js";
import { TemplateContext } from "./template.js";
import { shortId } from "./units.js";
import { naturalLess } from "./natural-sort.js";

export const NETWORK_TABLE = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";
export const NETWORK_HEADERS: Record<string, string> = {
  ID: "NETWORK ID", Name: "NAME", Driver: "DRIVER", Scope: "SCOPE", IPv4: "IPV4", IPv6: "IPV6", Internal: "INTERNAL",
  Labels: "LABELS", CreatedAt: "CREATED AT",
};

/** Go's time.Time.String() with the fractional seconds it prints when there are any. */
export function goTimeStringNano(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "0001-01-01 00:00:00 +0000 UTC";
  const frac = /\.(\d+)/.exec(iso)?.[1]?.replace(/0+$/, "") ?? "";
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const off = -d.getTimezoneOffset();
  const abs = Math.abs(off);
  const zone = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(d).find((x) => x.type === "timeZoneName")?.value ?? "UTC";
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}` +
    `${frac ? `.${frac}` : ""} ${off >= 0 ? "+" : "-"}${p(Math.trunc(abs / 60))}${p(abs % 60)} ${zone === "GMT" ? "UTC" : zone}`;
}

export function joinLabels(labels: Record<string, string> | null | undefined): string {
  const l = labels ?? {};
  return Object.keys(l).sort().map((k) => `${k}=${l[k]}`).join(",");
}

/** docker's formatter.networkContext. */
export function networkContext(n: NetworkResource, opts: { trunc: boolean }): TemplateContext {
  const labels = n.Labels ?? {};
  return new TemplateContext("*formatter.networkContext", {
    ID: () => (opts.trunc ? shortId(n.Id) : n.Id),
    Name: () => n.Name,
    Driver: () => n.Driver,
    Scope: () => n.Scope,
    IPv4: () => String(n.EnableIPv4 ?? true),
    IPv6: () => String(!!n.EnableIPv6),
    Internal: () => String(!!n.Internal),
    Labels: () => joinLabels(labels),
    CreatedAt: () => goTimeStringNano(n.Created ?? ""),
  }, {
    Label: (k: unknown) => labels[String(k)] ?? "",
  });
}

export function sortNetworks(list: NetworkResource[]): NetworkResource[] {
  return [...list].sort((a, b) => (naturalLess(a.Name, b.Name) ? -1 : naturalLess(b.Name, a.Name) ? 1 : 0));
}
