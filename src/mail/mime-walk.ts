/**
 * A small byte-level MIME walker for the intake channels. It never re-serialises anything: every
 * part is a byte range of the input, so an attached original (`message/rfc822`, RFC 2046 §5.2.1)
 * can be stored exactly as the reporter's client sent it. Deep, lenient parsing of the content is
 * the analysis stage's job (postal-mime); here we only need structure, with hard limits because
 * the input is hostile.
 */

/** Deepest nesting of multiparts and embedded messages we follow. */
export const MAX_MIME_DEPTH = 12;
/** Most parts we enumerate in one message. */
export const MAX_MIME_PARTS = 2000;
/** Longest header block we read (bytes). */
export const MAX_HEADER_BLOCK_BYTES = 1024 * 1024;

/** One header field: name as written, value unfolded (RFC 5322 §2.2.3), as latin1 text. */
export interface HeaderField {
  name: string;
  value: string;
}

/** A header block and where the body starts. */
export interface HeaderBlock {
  fields: HeaderField[];
  /** Offset of the first body byte (after the empty line), or the input length. */
  bodyStart: number;
  /** Offset where the header block ends (the empty line), exclusive. */
  headerEnd: number;
}

/** A MIME entity as byte ranges of the walked buffer. */
export interface MimeEntity {
  /** Offsets into the root buffer. */
  start: number;
  end: number;
  headers: HeaderField[];
  bodyStart: number;
  /** `type/subtype`, lower-case; `text/plain` when absent (RFC 2045 §5.2). */
  contentType: string;
  params: Record<string, string>;
  transferEncoding: string;
  disposition: string | null;
  dispositionParams: Record<string, string>;
  depth: number;
  /** Sub-entities of a multipart, or the embedded message of a message/rfc822 (7bit/8bit/binary). */
  children: MimeEntity[];
}

/** Parses the header block at `start` of `buf`, tolerating LF, CRLF and CR-only line endings. */
export function parseHeaderBlock(buf: Uint8Array, start = 0, end = buf.length): HeaderBlock {
  const fields: HeaderField[] = [];
  const limit = Math.min(end, start + MAX_HEADER_BLOCK_BYTES);
  let pos = start;
  let current: HeaderField | null = null;
  // An mbox envelope line (`From sender date`) is not a header field; skip it — but not `From : x`, a From
  // field written with a space before its colon.
  if (startsWithAscii(buf, pos, 'From ') && !/^From\s*:/.test(latin1(buf, pos, Math.min(limit, pos + 64))))
    pos = nextLine(buf, pos, limit).next;
  while (pos < limit) {
    const { lineEnd, next } = nextLine(buf, pos, limit);
    if (lineEnd === pos) return { fields: finish(fields, current), headerEnd: pos, bodyStart: next };
    const line = latin1(buf, pos, lineEnd);
    if ((line[0] === ' ' || line[0] === '\t') && current) {
      current.value += line;
    } else {
      const colon = line.indexOf(':');
      if (colon <= 0) {
        // Not a header line: the body starts here (a message without the empty separator line).
        return { fields: finish(fields, current), headerEnd: pos, bodyStart: pos };
      }
      if (current) fields.push(current);
      current = { name: line.slice(0, colon).trim(), value: line.slice(colon + 1) };
    }
    pos = next;
  }
  return { fields: finish(fields, current), headerEnd: pos, bodyStart: pos };
}

function finish(fields: HeaderField[], current: HeaderField | null): HeaderField[] {
  if (current) fields.push(current);
  for (const f of fields) f.value = f.value.replace(/\r\n|\r|\n/g, '').trim();
  return fields;
}

/** First value of a header (case-insensitive name), or null. */
export function headerValue(fields: HeaderField[], name: string): string | null {
  const lower = name.toLowerCase();
  for (const f of fields) if (f.name.toLowerCase() === lower) return f.value;
  return null;
}

/** Every value of a header. */
export function headerValues(fields: HeaderField[], name: string): string[] {
  const lower = name.toLowerCase();
  return fields.filter((f) => f.name.toLowerCase() === lower).map((f) => f.value);
}

/**
 * Splits a structured header value (`type/subtype; a=b; c="d"`) into its main value and
 * parameters, with RFC 2231 continuations and charset-tagged values decoded.
 */
export function parseStructured(value: string): { value: string; params: Record<string, string> } {
  const parts = splitParams(value);
  const main = (parts.shift() ?? '').trim().toLowerCase();
  const params: Record<string, string> = {};
  const continued = new Map<string, { idx: number; val: string; encoded: boolean }[]>();
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq <= 0) continue;
    let key = p.slice(0, eq).trim().toLowerCase();
    let val = p.slice(eq + 1).trim();
    if (val.startsWith('"') && val.endsWith('"') && val.length >= 2) val = val.slice(1, -1).replace(/\\(.)/g, '$1');
    const m = /^([^*]+)\*(\d+)?(\*)?$/.exec(key);
    if (m) {
      key = m[1];
      const list = continued.get(key) ?? [];
      list.push({
        idx: m[2] === undefined ? 0 : Number(m[2]),
        val,
        encoded: m[3] === '*' || (m[2] === undefined && p.slice(0, eq).trim().endsWith('*')),
      });
      continued.set(key, list);
      continue;
    }
    params[key] = val;
  }
  for (const [key, list] of continued) {
    list.sort((a, b) => a.idx - b.idx);
    let charset = 'utf-8';
    const bytes: number[] = [];
    list.forEach((seg, i) => {
      let v = seg.val;
      if (seg.encoded && i === 0) {
        const q = /^([^']*)'[^']*'(.*)$/.exec(v);
        if (q) {
          charset = q[1] || charset;
          v = q[2];
        }
      }
      if (seg.encoded) for (const b of percentDecode(v)) bytes.push(b);
      else for (const b of Buffer.from(v, 'latin1')) bytes.push(b);
    });
    params[key] = decodeCharset(Buffer.from(bytes), charset);
  }
  return { value: main, params };
}

function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && quoted && i + 1 < value.length) {
      cur += c + value[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

function percentDecode(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(s.charCodeAt(i) & 0xff);
  }
  return Buffer.from(out);
}

/** Decodes bytes in a charset TextDecoder knows; falls back to latin1 (never throws). */
export function decodeCharset(bytes: Uint8Array, charset: string): string {
  try {
    return new TextDecoder(charset.trim().toLowerCase() || 'utf-8').decode(bytes);
  } catch {
    return Buffer.from(bytes).toString('latin1');
  }
}

/**
 * Walks the MIME structure of `buf` (a whole message). Multipart bodies are split on their
 * boundary (RFC 2046 §5.1.1: the CRLF before a delimiter belongs to the delimiter); an embedded
 * `message/rfc822` or `message/global` in 7bit/8bit/binary is walked as a message of its own.
 */
export function walkMime(buf: Uint8Array): MimeEntity {
  const counter = { parts: 0 };
  return walkEntity(buf, 0, buf.length, 0, counter, null);
}

function walkEntity(
  buf: Uint8Array,
  start: number,
  end: number,
  depth: number,
  counter: { parts: number },
  defaultType: string | null,
): MimeEntity {
  counter.parts++;
  const hb = parseHeaderBlock(buf, start, end);
  const ct = parseStructured(headerValue(hb.fields, 'content-type') ?? defaultType ?? 'text/plain');
  const cd = headerValue(hb.fields, 'content-disposition');
  const disp = cd ? parseStructured(cd) : null;
  const entity: MimeEntity = {
    start,
    end,
    headers: hb.fields,
    bodyStart: Math.min(hb.bodyStart, end),
    contentType: /^[\w.+-]+\/[\w.+-]+$/.test(ct.value) ? ct.value : 'text/plain',
    params: ct.params,
    transferEncoding: (headerValue(hb.fields, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase(),
    disposition: disp ? disp.value : null,
    dispositionParams: disp ? disp.params : {},
    depth,
    children: [],
  };
  if (depth >= MAX_MIME_DEPTH || counter.parts >= MAX_MIME_PARTS) return entity;
  if (entity.contentType.startsWith('multipart/') && entity.params.boundary) {
    const childDefault = entity.contentType === 'multipart/digest' ? 'message/rfc822' : null;
    for (const r of splitMultipart(buf, entity.bodyStart, end, entity.params.boundary)) {
      if (counter.parts >= MAX_MIME_PARTS) break;
      entity.children.push(walkEntity(buf, r.start, r.end, depth + 1, counter, childDefault));
    }
  } else if (isEmbeddedMessage(entity) && !isEncoded(entity.transferEncoding)) {
    entity.children.push(walkEntity(buf, entity.bodyStart, end, depth + 1, counter, null));
  }
  return entity;
}

/** True for `message/rfc822` and `message/global` (RFC 6532 §3.5). */
export function isEmbeddedMessage(e: MimeEntity): boolean {
  return e.contentType === 'message/rfc822' || e.contentType === 'message/global';
}

function isEncoded(cte: string): boolean {
  return cte === 'base64' || cte === 'quoted-printable';
}

/** Byte ranges of the body parts of a multipart between `start` and `end`. */
export function splitMultipart(
  buf: Uint8Array,
  start: number,
  end: number,
  boundary: string,
): { start: number; end: number }[] {
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const ranges: { start: number; end: number }[] = [];
  let partStart = -1;
  let pos = start;
  while (pos < end) {
    const idx = b.indexOf(delim, pos);
    if (idx === -1 || idx >= end) break;
    const atLineStart = idx === start || b[idx - 1] === 0x0a || b[idx - 1] === 0x0d;
    if (!atLineStart) {
      pos = idx + 1;
      continue;
    }
    const after = idx + delim.length;
    const closing = b[after] === 0x2d && b[after + 1] === 0x2d;
    // The line break before the delimiter is part of the delimiter (RFC 2046 §5.1.1).
    let partEnd = idx;
    if (partEnd > start && b[partEnd - 1] === 0x0a) partEnd--;
    if (partEnd > start && b[partEnd - 1] === 0x0d) partEnd--;
    if (partStart !== -1) ranges.push({ start: partStart, end: Math.max(partStart, partEnd) });
    if (closing) return ranges;
    partStart = nextLine(b, after, end).next;
    pos = partStart;
  }
  // An unterminated multipart: keep the last part up to the end (lenient, as mail clients are).
  if (partStart !== -1 && partStart < end) ranges.push({ start: partStart, end });
  return ranges;
}

/** The decoded body of a leaf entity (base64 / quoted-printable / identity). */
export function decodeBody(buf: Uint8Array, e: MimeEntity): Buffer {
  const body = Buffer.from(buf.buffer, buf.byteOffset + e.bodyStart, Math.max(0, e.end - e.bodyStart));
  return decodeTransfer(body, e.transferEncoding);
}

/** Decodes a transfer encoding (RFC 2045 §6); unknown encodings are returned as they are. */
export function decodeTransfer(body: Buffer, cte: string): Buffer {
  if (cte === 'base64') return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
  if (cte === 'quoted-printable') return decodeQuotedPrintable(body);
  return Buffer.from(body);
}

/** RFC 2045 §6.7 quoted-printable decoding, lenient about stray `=`. */
export function decodeQuotedPrintable(body: Uint8Array): Buffer {
  const out = Buffer.alloc(body.length);
  let n = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== 0x3d) {
      out[n++] = c;
      continue;
    }
    const h1 = body[i + 1];
    const h2 = body[i + 2];
    if (h1 === 0x0d && h2 === 0x0a) {
      i += 2;
      continue;
    }
    if (h1 === 0x0a || h1 === 0x0d) {
      i += 1;
      continue;
    }
    if (isHex(h1) && isHex(h2)) {
      out[n++] = parseInt(String.fromCharCode(h1, h2), 16);
      i += 2;
      continue;
    }
    out[n++] = c;
  }
  return out.subarray(0, n);
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

/** Every entity of the tree, depth first, root included. */
export function flattenMime(root: MimeEntity): MimeEntity[] {
  const out: MimeEntity[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const e = stack.pop();
    if (!e) break;
    out.push(e);
    for (let i = e.children.length - 1; i >= 0; i--) stack.push(e.children[i]);
  }
  return out;
}

/** The body bytes of an entity (no decoding). */
export function bodyBytes(buf: Uint8Array, e: MimeEntity): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + e.bodyStart, Math.max(0, e.end - e.bodyStart));
}

/** Decodes RFC 2047 encoded-words in a header value (for display and matching only). */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (_m, cs: string, enc: string, text: string) => {
      const charset = cs.split('*')[0];
      const bytes =
        enc.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64')
          : decodeQuotedPrintable(Buffer.from(text.replace(/_/g, ' '), 'latin1'));
      return decodeCharset(bytes, charset);
    });
}

function nextLine(buf: Uint8Array, pos: number, limit: number): { lineEnd: number; next: number } {
  let i = pos;
  while (i < limit && buf[i] !== 0x0a && buf[i] !== 0x0d) i++;
  if (i >= limit) return { lineEnd: i, next: i };
  if (buf[i] === 0x0d && buf[i + 1] === 0x0a) return { lineEnd: i, next: i + 2 };
  return { lineEnd: i, next: i + 1 };
}

function startsWithAscii(buf: Uint8Array, pos: number, s: string): boolean {
  for (let i = 0; i < s.length; i++) if (buf[pos + i] !== s.charCodeAt(i)) return false;
  return true;
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}
