import type { Command } from "../../command.js";
import { bool, string } from "../../flags.js";
import { renderList } from "../../output/list-format.js";
import { TemplateContext } from "../../output/template.js";
import { ellipsis, humanSize, shortId, timeAgo } from "../../output/units.js";

const HEADERS = { ID: "IMAGE", CreatedSince: "CREATED", CreatedAt: "CREATED AT", CreatedBy: "CREATED BY", Size: "SIZE", Comment: "COMMENT" };
const TABLE = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

const rfc3339 = (sec: number) => new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

export const history: Command = {
  name: "image history",
  summary: "Show the history of an image",
  usage: "[OPTIONS] IMAGE",
  minArgs: 1,
  maxArgs: 1,
  flags: {
    format: string("", "Format output using a custom template"),
    human: bool("H", "Print sizes and dates in human readable format", { default: true }),
    "no-trunc": bool("", "Don't truncate output"),
    quiet: bool("q", "Only show image IDs"),
  },
  async run({ client, args, flags, out }) {
    const items = await client.images.history(args[0]!);
    const trunc = !flags.bool("no-trunc");
    const human = flags.bool("human");
    const now = Date.now();
    const rows = items.map((h) => new TemplateContext("*formatter.historyContext", {
      ID: () => (h.Id === "<missing>" || !trunc ? h.Id : shortId(h.Id)),
      CreatedSince: () => (human ? timeAgo(h.Created * 1000, now) : rfc3339(h.Created)),
      CreatedAt: () => (human ? rfc3339(h.Created) : rfc3339(h.Created)),
      CreatedBy: () => { const s = (h.CreatedBy ?? "").replaceAll("\t", " "); return trunc ? ellipsis(s, 45) : s; },
      Size: () => (human ? humanSize(h.Size) : String(h.Size)),
      Comment: () => h.Comment ?? "",
      Tags: () => (h.Tags ?? []).join(", "),
    }));
    const headers = human ? HEADERS : { ...HEADERS, CreatedSince: "CREATED AT" };
    out.write(renderList(rows, { format: flags.string("format"), quiet: flags.bool("quiet"), defaultTable: TABLE, headers, warn: (m) => out.errorLine(m) }));
  },
};
