/**
 * CSV (RFC 4180): CRLF rows, fields quoted when they hold a comma, quote or line break. A field
 * starting with `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet never runs it as a
 * formula (values such as rDNS names come from hostile input).
 */
export type CsvValue = string | number | null | undefined;

function field(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The whole table with a header row. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return `${[header, ...rows].map((r) => r.map(field).join(',')).join('\r\n')}\r\n`;
}
