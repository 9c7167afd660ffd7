import { syntaxError } from "./parse-error.js";

const UNITS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds ("1m30s", "1.5h", "300ms", "0"). */
export function parseGoDuration(s: string): number {
  const invalid = () => syntaxError(`time: invalid duration ${JSON.stringify(s)}`);
  let rest = s;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw invalid();
  let total = 0;
  while (rest !== "") {
    const m = /^(\d*(?:\.\d*)?)([a-zµμ]+)/.exec(rest);
    if (!m || m[1] === "" || m[1] === ".") throw invalid();
    const unit = UNITS[m[2]!];
    if (unit === undefined) throw syntaxError(`time: unknown unit ${JSON.stringify(m[2])} in duration ${JSON.stringify(s)}`);
    total += Number(m[1]) * unit;
    rest = rest.slice(m[0].length);
  }
  return sign * Math.round(total);
}
