import { compileTemplate, TemplateContext, TemplateError, type Template, type ExecuteOptions } from "./template.js";
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
  const compiled = compileChecked(tmpl);
  let body = "";
  for (const item of items) body += executeChecked(compiled, item) + "\n";
  if (!isTable) return body;
  const sample = items[0];
  const headerCtx = headerContext(sample, opts.headers);
  let header = executeChecked(compiled, headerCtx);
  if (!header.trim()) header = "";
  return tabwrite((header ? header + "\n" : "") + body);
}

function headerContext(sample: TemplateContext | undefined, headers: Record<string, string>): TemplateContext {
  const names = sample ? [...Object.keys(sample.fields)] : Object.keys(headers);
  const fields: Record<string, () => unknown> = {};
  for (const name of new Set([...names, ...Object.keys(headers)])) fields[name] = () => headers[name] ?? name.toUpperCase();
  const methods: Record<string, (...a: unknown[]) => unknown> = {};
  for (const m of Object.keys(sample?.methods ?? {})) methods[m] = (k: unknown) => String(k ?? "");
  return new TemplateContext(sample?.typeName ?? "header", fields, methods);
}

/** Compiles with docker's "template parsing error: ..." wording. */
export function compileChecked(src: string): Template {
  try {
    return compileTemplate(src);
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError(`template parsing error: ${err.message}`);
    throw err;
  }
}

/** Executes with docker's "failed to execute template: ..." wording. */
export function executeChecked(t: Template, data: unknown, opts?: ExecuteOptions): string {
  try {
    return t.execute(data, opts);
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError(`failed to execute template: ${err.message}`);
    throw err;
  }
}
