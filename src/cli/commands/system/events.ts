import type { Command } from "../../command.js";
import { string, strings } from "../../flags.js";
import { parseFilterArgs } from "../../../client/filters.js";
import type { EventMessage } from "../../../client/types.js";
import { compileChecked, executeChecked } from "../../output/list-format.js";
import { timestampArg } from "../../output/parse-units.js";

function rfc3339NanoFixed(timeNano: number): string {
  const ms = Math.floor(timeNano / 1e6);
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? "Z" : `${off > 0 ? "+" : "-"}${p(Math.trunc(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  const nanos = String(timeNano % 1e9).padStart(9, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${nanos}${zone}`;
}

export function formatEvent(e: EventMessage): string {
  const attrs = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  const tail = keys.length ? ` (${keys.map((k) => `${k}=${attrs[k]}`).join(", ")})` : "";
  return `${rfc3339NanoFixed(e.timeNano ?? e.time * 1e9)} ${e.Type} ${e.Action} ${e.Actor?.ID ?? ""}${tail}`;
}

export const events: Command = {
  name: "system events",
  summary: "Get real time events from the server",
  usage: "[OPTIONS]",
  maxArgs: 0,
  flags: {
    filter: strings("f", "Filter output based on conditions provided", { valueName: "filter" }),
    format: string("", "Format output using a custom template"),
    since: string("", "Show all events created since timestamp"),
    until: string("", "Stream events until this timestamp"),
  },
  async run({ client, flags, out }) {
    const now = Date.now();
    const res = await client.system.events({
      since: flags.string("since") ? timestampArg(flags.string("since"), now) : undefined,
      until: flags.string("until") ? timestampArg(flags.string("until"), now) : undefined,
      filters: parseFilterArgs(flags.strings("filter")),
    });
    const format = flags.string("format");
    const t = format ? compileChecked(format === "json" ? "{{json .}}" : format) : undefined;
    let pending = "";
    res.setEncoding("utf8");
    for await (const chunk of res) {
      pending += chunk as string;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (!line) continue;
        const e = JSON.parse(line) as EventMessage;
        out.line(t ? executeChecked(t, e) : formatEvent(e));
      }
    }
  },
};
