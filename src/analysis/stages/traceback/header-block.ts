/**
 * The top-level header fields of the raw evidence, in order, unfolded (RFC 5322 §2.2.3).
 * Read straight from the bytes so the trace-back sees every Received field exactly as stored,
 * whatever the MIME parser made of the rest. Bounded: hostile headers can be huge.
 */

/** Largest header block read, in bytes. */
export const MAX_HEADER_BLOCK_BYTES = 1024 * 1024;
/** Most fields read. */
export const MAX_HEADER_FIELDS = 2000;

export interface HeaderField {
  /** Lower-case field name. */
  name: string;
  /** Unfolded value, whitespace runs collapsed, without the name and colon. */
  value: string;
}

/** Splits the header block of `raw` into fields. Never throws. */
export function headerFields(raw: Uint8Array): HeaderField[] {
  const head = Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.byteLength, MAX_HEADER_BLOCK_BYTES)).toString('latin1');
  // End of the header block: the first empty line, whatever the line endings (CRLF, LF or CR-only).
  const end = head.search(/\r\n\r\n|\n\n|\r\r|\r\n\n|\n\r\n/);
  const block = (end < 0 ? head : head.slice(0, end)).replace(/\r\n?/g, '\n');
  const out: HeaderField[] = [];
  let name: string | null = null;
  let parts: string[] = [];
  const flush = () => {
    if (name !== null && out.length < MAX_HEADER_FIELDS) out.push({ name, value: parts.join(' ').replace(/\s+/g, ' ').trim() });
    name = null;
    parts = [];
  };
  for (const line of block.split('\n')) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (name !== null) parts.push(line);
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    // An mbox `From ` line or garbage: not a field.
    if (colon <= 0 || /\s/.test(line.slice(0, colon).trimEnd())) continue;
    name = line.slice(0, colon).trim().toLowerCase();
    parts = [line.slice(colon + 1)];
  }
  flush();
  return out;
}
