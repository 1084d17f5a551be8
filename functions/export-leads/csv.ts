// CSV for spreadsheets: RFC 4180 (fields with a comma, quote, CR or LF are quoted, quotes doubled,
// CRLF between records), UTF-8 with a byte order mark so Excel reads accents, and safe against CSV
// injection: a cell a spreadsheet would read as a formula (starting with = + - @, or a tab or CR
// before one) is prefixed with an apostrophe, which spreadsheets show as plain text.

/** The byte order mark: the first thing in the file. */
export const BOM = "\uFEFF";

const formulaStart = /^[=+\-@\t\r]/;

export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? "" : Array.isArray(value) ? value.join("; ") : String(value);
  if (formulaStart.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(cells: readonly unknown[]): string {
  return cells.map(csvCell).join(",") + "\r\n";
}
