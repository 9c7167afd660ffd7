import { width } from "./units.js";

/**
 * Go's text/tabwriter as docker configures it (minwidth 10, tabwidth 1, padding 3, pad ' ', no flags):
 * tab-terminated cells form columns; text after the last tab in a line is not padded.
 */
export function tabwrite(text: string, opts: { minWidth?: number; padding?: number } = {}): string {
  const minWidth = opts.minWidth ?? 10;
  const padding = opts.padding ?? 3;
  const hadTrailingNewline = text.endsWith("\n");
  const lines = (hadTrailingNewline ? text.slice(0, -1) : text).split("\n").map((l) => l.split("\t"));
  const out: string[][] = lines.map((cells) => [...cells]);
  // Columns are computed block by block: a block is a run of consecutive lines that have the column.
  const format = (from: number, to: number, col: number): void => {
    let i = from;
    while (i < to) {
      if (lines[i]!.length - 1 <= col) { i++; continue; }
      let j = i;
      let w = minWidth;
      while (j < to && lines[j]!.length - 1 > col) {
        w = Math.max(w, width(lines[j]![col]!) + padding);
        j++;
      }
      for (let k = i; k < j; k++) out[k]![col] = lines[k]![col]! + " ".repeat(w - width(lines[k]![col]!));
      format(i, j, col + 1);
      i = j;
    }
  };
  format(0, lines.length, 0);
  return out.map((cells) => cells.join("")).join("\n") + (hadTrailingNewline ? "\n" : "");
}
