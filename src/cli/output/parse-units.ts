import { invalidArgument } from "../../errdefs/index.js";

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds: "10m", "1h30m", "1.5s", "300ms". */
export function parseGoDuration(s: string): number {
  const orig = s;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) { if (s[0] === "-") sign = -1; s = s.slice(1); }
  if (s === "0") return 0;
  if (!s) throw invalidArgument(`time: invalid duration "${orig}"`);
  let total = 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (s) {
    const m = re.exec(s);
    if (!m) throw invalidArgument(`time: invalid duration "${orig}"`);
    total += Number(m[1]) * GO_UNITS[m[2]!]!;
    s = s.slice(m[0].length);
  }
  return sign * total;
}

/** docker/go-units RAMInBytes: "512m" -> 536870912 (binary multiples). */
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) throw invalidArgument(`invalid size: '${s}'`);
  const mult: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.trunc(Number(m[1]) * (m[2] ? mult[m[2].toLowerCase()]! : 1));
}

/** docker/go-units FromHumanSize: decimal multiples ("2GB"). */
export function fromHumanSize(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) throw invalidArgument(`invalid size: '${s}'`);
  const mult: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };
  return Math.trunc(Number(m[1]) * (m[2] ? mult[m[2].toLowerCase()]! : 1));
}

/**
 * The docker CLI's timetypes.GetTimestamp for --since/--until: a Go duration (relative to now),
 * an RFC 3339 time (with or without zone, date only), or a Unix timestamp. Returns "sec.nanos".
 */
export function timestampArg(value: string, now = Date.now()): string {
  if (/^\d+(\.\d{1,9})?$/.test(value)) return value;
  try {
    const d = parseGoDuration(value);
    const t = now - d;
    return `${Math.floor(t / 1000)}.${String((t % 1000) * 1e6).padStart(9, "0")}`;
  } catch { /* not a duration */ }
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00`
    : value;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(iso);
  const ms = Date.parse(hasZone ? iso : iso.length > 10 ? iso : `${iso}`);
  if (Number.isNaN(ms)) throw invalidArgument(`failed to parse value as time or duration: "${value}"`);
  const frac = /\.(\d+)/.exec(iso.slice(19))?.[1] ?? "";
  const nanos = (frac + "000000000").slice(0, 9);
  return `${Math.floor(ms / 1000)}.${frac ? nanos : "000000000"}`;
}
