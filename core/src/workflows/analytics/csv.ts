import type { SqlColumn } from "./driver.js";

/**
 * RFC 4180 CSV of a query result: a header row, CRLF line ends, fields quoted when they hold a comma,
 * quote, CR or LF. Objects and arrays are written as JSON. A leading =, +, - or @ is prefixed with a
 * quote so spreadsheets do not run it as a formula (OWASP CSV injection).
 */
export function toCsv(columns: readonly SqlColumn[], rows: readonly (readonly unknown[])[]): string {
  const lines = [columns.map((c) => field(c.name)).join(",")];
  for (const row of rows) lines.push(row.map(field).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

function field(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text =
    typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
