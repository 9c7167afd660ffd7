/** docker/go-units and the CLI's display helpers: sizes, durations, ellipsis. */

const DECIMAL = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

/** Go's %.<p>g. */
export function formatG(n: number, precision: number): string {
  if (n === 0) return "0";
  const exp = Math.floor(Math.log10(Math.abs(Number(n.toPrecision(precision)))));
  if (exp < -4 || exp >= precision) {
    const [mant, e] = n.toExponential(precision - 1).split("e");
    const m = mant!.includes(".") ? mant!.replace(/0+$/, "").replace(/\.$/, "") : mant!;
    const ev = Number(e);
    return `${m}e${ev < 0 ? "-" : "+"}${String(Math.abs(ev)).padStart(2, "0")}`;
  }
  const s = n.toFixed(Math.max(0, precision - 1 - exp));
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

function custom(size: number, base: number, units: string[], precision: number): string {
  let i = 0;
  while (size >= base && i < units.length - 1) { size /= base; i++; }
  return `${formatG(size, precision)}${units[i]}`;
}

/** HumanSizeWithPrecision(size, 3): "7.8MB", "0B". */
export const humanSize = (size: number, precision = 3): string => custom(size, 1000, DECIMAL, precision);
/** BytesSize: binary units, 4 significant digits ("7.763GiB"). */
export const bytesSize = (size: number): string => custom(size, 1024, BINARY, 4);

/** docker/go-units HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/** Time since a moment, as in the CREATED column: "5 seconds ago". */
export function timeAgo(when: Date | number, now = Date.now()): string {
  const t = typeof when === "number" ? when : when.getTime();
  return `${humanDuration(Math.max(0, now - t))} ago`;
}

/** Display width of a string (runes; wide characters are rare in these columns). */
export const width = (s: string): number => [...s].length;

/** Cut to max display columns, ending in "…" when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  if (max <= 0) return "";
  return chars.slice(0, max - 1).join("") + "…";
}

/** "sha256:abc..." -> 12 hex characters. */
export function shortId(id: string): string {
  const i = id.indexOf(":");
  return (i >= 0 ? id.slice(i + 1) : id).slice(0, 12);
}

/** Go's time.Time.String() in the local zone: "2006-01-02 15:04:05 -0700 MST". */
export function goTimeString(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  const abs = Math.abs(off);
  const zone = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(d).find((x) => x.type === "timeZoneName")?.value ?? "UTC";
  const name = zone === "GMT" || zone === "UTC" ? "UTC" : zone;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${sign}${p(Math.trunc(abs / 60))}${p(abs % 60)} ${name}`;
}
