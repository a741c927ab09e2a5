/**
 * A small MIME writer for what the actions area sends: referrals with a ZIP attached, ISP digests,
 * ARF reports (RFC 5965 `multipart/report`). The message is built ONCE when it enters the outbox
 * and stored as bytes, so every retry sends exactly the same bytes with the same Message-ID
 * (the idempotency key a receiver de-duplicates on).
 *
 * Why not nodemailer's composer: ARF needs a `multipart/report` tree with a `message/rfc822`
 * part that must never be re-encoded (RFC 2046 §5.2.1 allows only 7bit/8bit/binary there), and
 * we need the exact bytes up front. Lines are CRLF, headers folded, non-ASCII encoded per RFC 2047.
 */
import { randomBytes } from 'node:crypto';

const CRLF = '\r\n';

/** One leaf or multipart node. */
export type MimeNode =
  | {
      contentType: string;
      /** Extra headers of the part (e.g. Content-Description). */
      headers?: [string, string][];
      body: Buffer | string;
      /** `base64` for binary attachments; `7bit`/`8bit` for text and message parts written as is. */
      encoding: 'base64' | '7bit' | '8bit';
      filename?: string;
      disposition?: 'inline' | 'attachment';
    }
  | {
      /** e.g. `multipart/mixed`, or `multipart/report; report-type=feedback-report`. */
      contentType: string;
      headers?: [string, string][];
      parts: MimeNode[];
    };

export interface MailHeaders {
  from: string;
  to: string[];
  subject: string;
  messageId: string;
  date?: Date;
  /** Extra top-level headers. */
  headers?: [string, string][];
}

/** A fresh Message-ID under `domain` (RFC 5322 §3.6.4). */
export function newMessageId(domain: string): string {
  return `<${Date.now().toString(36)}.${randomBytes(12).toString('hex')}@${domain}>`;
}

/** RFC 5322 date in UTC. */
export function rfc5322Date(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}

/** Encodes a header value per RFC 2047 when it is not plain printable ASCII. */
export function encodeHeaderValue(value: string): string {
  const clean = value.replace(/[\r\n]+/g, ' ');
  if (/^[\x20-\x7e]*$/.test(clean)) return clean;
  // Encoded-words are at most 75 chars: chunk the UTF-8 by code points, not bytes.
  const words: string[] = [];
  let chunk = '';
  for (const ch of clean) {
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(`=?UTF-8?B?${Buffer.from(chunk).toString('base64')}?=`);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(`=?UTF-8?B?${Buffer.from(chunk).toString('base64')}?=`);
  return words.join(' ');
}

/** Folds a header line at whitespace to stay under 78 characters where possible (RFC 5322 §2.2.3). */
export function foldHeader(name: string, value: string): string {
  const line = `${name}: ${value}`;
  if (line.length <= 78) return line;
  const out: string[] = [];
  let cur = '';
  for (const token of line.split(/(?<= )/)) {
    if (cur.length + token.length > 76 && cur.trim().length > 0) {
      out.push(cur.trimEnd());
      cur = ` ${token.trimStart()}`;
    } else {
      cur += token;
    }
  }
  if (cur.trim()) out.push(cur.trimEnd());
  return out.join(CRLF);
}

function header(name: string, value: string): string {
  return foldHeader(name, encodeHeaderValue(value));
}

function base64Lines(buf: Buffer): string {
  return (buf.toString('base64').match(/.{1,76}/g) ?? []).join(CRLF);
}

/** Quotes a MIME parameter value (RFC 2045 §5.1), or RFC 2231-encodes a non-ASCII one. */
function param(name: string, value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return `${name}="${value.replace(/["\\]/g, '\\$&')}"`;
  return `${name}*=UTF-8''${encodeURIComponent(value)}`;
}

function renderNode(node: MimeNode): Buffer {
  const lines: string[] = [];
  for (const [n, v] of node.headers ?? []) lines.push(header(n, v));
  if ('parts' in node) {
    const boundary = `=_sd_${randomBytes(12).toString('hex')}`;
    lines.push(foldHeader('Content-Type', `${node.contentType}; boundary="${boundary}"`));
    const chunks: Buffer[] = [
      Buffer.from(`${lines.join(CRLF)}${CRLF}${CRLF}This is a multi-part message in MIME format.${CRLF}`),
    ];
    for (const p of node.parts) {
      chunks.push(Buffer.from(`--${boundary}${CRLF}`), renderNode(p), Buffer.from(CRLF));
    }
    chunks.push(Buffer.from(`--${boundary}--${CRLF}`));
    return Buffer.concat(chunks);
  }
  const ct = node.filename ? `${node.contentType}; ${param('name', node.filename)}` : node.contentType;
  lines.push(foldHeader('Content-Type', ct));
  lines.push(`Content-Transfer-Encoding: ${node.encoding}`);
  if (node.disposition || node.filename) {
    lines.push(
      foldHeader(
        'Content-Disposition',
        `${node.disposition ?? 'attachment'}${node.filename ? `; ${param('filename', node.filename)}` : ''}`,
      ),
    );
  }
  const body = typeof node.body === 'string' ? Buffer.from(node.body, 'utf8') : node.body;
  const encoded = node.encoding === 'base64' ? Buffer.from(base64Lines(body)) : toCrlf(body);
  return Buffer.concat([Buffer.from(lines.join(CRLF) + CRLF + CRLF), encoded, Buffer.from(CRLF)]);
}

/** Normalises bare LF / CR to CRLF (SMTP requires CRLF, RFC 5321 §2.3.8). */
export function toCrlf(buf: Buffer): Buffer {
  return Buffer.from(buf.toString('latin1').replace(/\r\n|\r|\n/g, CRLF), 'latin1');
}

/** True when `raw` can travel as a `message/rfc822` 8bit part: no NUL, lines ≤ 998 octets (RFC 5322 §2.1.1). */
export function isEmbeddable(raw: Buffer): boolean {
  if (raw.includes(0)) return false;
  const text = raw.toString('latin1');
  return text.split(/\r\n|\r|\n/).every((l) => l.length <= 998);
}

/** The whole message as bytes. */
export function buildMessage(h: MailHeaders, root: MimeNode): Buffer {
  const top: string[] = [
    header('From', h.from),
    header('To', h.to.join(', ')),
    header('Subject', h.subject),
    `Date: ${rfc5322Date(h.date ?? new Date())}`,
    `Message-ID: ${h.messageId}`,
    'MIME-Version: 1.0',
    ...(h.headers ?? []).map(([n, v]) => header(n, v)),
  ];
  return Buffer.concat([Buffer.from(top.join(CRLF) + CRLF), renderNode(root)]);
}

/** Domain part of an address, for Message-IDs. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at >= 0 ? address.slice(at + 1).replace(/>$/, '') : 'spamdesk.invalid';
}
