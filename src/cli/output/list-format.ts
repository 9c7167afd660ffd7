import { compileTemplate, TemplateContext } from "./template.js";
import { tabwrite } from "./tabwriter.js";

export interface ListOptions {
  /** --format as the user gave it ("", "table", "table ...", "json", or a template). */
  format: string;
  quiet?: boolean;
  /** The default table template ("table {{.ID}}\t..."). */
  defaultTable: string;
  /** Header text per field name ("ID" -> "CONTAINER ID"). */
  headers: Record<string, string>;
  warn?: (msg: string) => void;
}

/** docker's formatter.Context: picks the template, renders each context, lays tables out with tabwriter. */
export function renderList(items: TemplateContext[], opts: ListOptions): string {
  let format = opts.format;
  if (opts.quiet) {
    if (format && format !== "table") opts.warn?.("WARNING: Ignoring custom format, because both --format and --quiet are set.");
    format = "{{.ID}}";
  } else if (!format || format === "table") {
    format = opts.defaultTable;
  }
  const isTable = format.startsWith("table");
  let tmpl = isTable ? format.slice("table".length) : format === "json" ? "{{json .}}" : format;
  tmpl = tmpl.replace(/^ +| +$/g, "").replaceAll("\\t", "\t").replaceAll("\\n", "\n");
  const compiled = compileTemplate(tmpl);
  let body = "";
  for (const item of items) body += compiled.execute(item) + "\n";
  if (!isTable) return body;
  const sample = items[0];
  const headerCtx = headerContext(sample, opts.headers);
  let header = compiled.execute(headerCtx);
  if (!header.trim()) header = "";
  return tabwrite((header ? header + "\n" : "") + body);
}

function headerContext(sample: TemplateContext | undefined, headers: Record<string, string>): TemplateContext {
  const names = sample ? [...Object.keys(sample.fields)] : Object.keys(headers);
  const fields: Record<string, () => unknown> = {};
  for (const name of new Set([...names, ...Object.keys(headers)])) fields[name] = () => headers[name] ?? name.toUpperCase();
  const methods: Record<string, (...a: unknown[]) => unknown> = {};
  for (const m of Object.keys(sample?.methods ?? {})) methods[m] = () => "";
  return new TemplateContext(sample?.typeName ?? "header", fields, methods);
}
