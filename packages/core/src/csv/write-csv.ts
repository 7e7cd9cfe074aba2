/**
 * CSV as the studio writes it (chart data, dataset exports): RFC 4180 quoting, CRLF rows, and
 * formula-like cells defused. A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`
 * (or a tab / carriage return before one) as a formula — dataset text and model output are
 * untrusted — so such a cell gets a leading apostrophe (OWASP's advice). A plain number such as
 * `-0.5` stays a number: it is not text a spreadsheet would run.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function escapeCsvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text =
    typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
  if (typeof value === "string" && FORMULA_START.test(text) && !PLAIN_NUMBER.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const lines = [columns.map(escapeCsvCell).join(",")];
  for (const row of rows) lines.push(row.map(escapeCsvCell).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
