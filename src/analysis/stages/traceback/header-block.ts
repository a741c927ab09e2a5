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

/**
 * Where the header block of `raw[0, n)` ends: the first empty line, whatever the line endings
 * (CRLF, LF or CR-only, or a mix: `\r\n\r\n`, `\n\n`, `\r\r`, `\r\n\n`, `\n\r\n`); `n`
 * when there is none. Scans bytes, so a large body is never turned into a string.
 */
function headerEnd(raw: Uint8Array, n: number): number {
  for (let i = 0; i + 1 < n; i++) {
    const c = raw[i];
    if (c !== 0x0a && c !== 0x0d) continue;
    const d = raw[i + 1];
    if (c === 0x0a) {
      if (d === 0x0a || (d === 0x0d && i + 2 < n && raw[i + 2] === 0x0a)) return i;
    } else if (d === 0x0d) return i;
    else if (d === 0x0a && i + 2 < n) {
      const e = raw[i + 2];
      if (e === 0x0a || (e === 0x0d && i + 3 < n && raw[i + 3] === 0x0a)) return i;
    }
  }
  return n;
}

/** The trace-back and authentication stages both read the fields of the same evidence: split it once. */
const parsedFields = new WeakMap<Uint8Array, readonly HeaderField[]>();

/** Splits the header block of `raw` into fields (read-only; computed once per evidence buffer). Never throws. */
export function headerFields(raw: Uint8Array): readonly HeaderField[] {
  const known = parsedFields.get(raw);
  if (known) return known;
  const fields = Object.freeze(splitFields(raw));
  parsedFields.set(raw, fields);
  return fields;
}

function splitFields(raw: Uint8Array): HeaderField[] {
  const end = headerEnd(raw, Math.min(raw.byteLength, MAX_HEADER_BLOCK_BYTES));
  const block = Buffer.from(raw.buffer, raw.byteOffset, end).toString('latin1').replace(/\r\n?/g, '\n');
  const out: HeaderField[] = [];
  let name: string | null = null;
  let parts: string[] = [];
  const flush = () => {
    if (name !== null && out.length < MAX_HEADER_FIELDS)
      out.push({ name, value: parts.join(' ').replace(/\s+/g, ' ').trim() });
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
