/**
 * Is this an e-mail message at all? Cheap structural checks on the header block done before
 * anything is stored (RFC 5322 §2.2: header fields are `name ":" value`, names are printable
 * US-ASCII except colon). Deep parsing is the analysis stage's job; here we only refuse bytes that
 * no careful analyst would call a message: empty input, binary garbage, no header block.
 */
import { AppError } from '../core/errors.ts';

/** How far we look for the end of the header block. */
export const MAX_HEADER_SCAN_BYTES = 1024 * 1024;
/** Header names whose presence makes a header block look like a message's. */
const MESSAGE_HEADERS = new Set([
  'from',
  'to',
  'cc',
  'subject',
  'date',
  'message-id',
  'received',
  'return-path',
  'sender',
  'reply-to',
  'mime-version',
  'content-type',
  'delivered-to',
  'x-original-to',
  'envelope-to',
  'arc-seal',
  'dkim-signature',
  'authentication-results',
  'x-mailer',
  'list-unsubscribe',
  'in-reply-to',
  'references',
]);
const FIELD_NAME = /^[!-9;-~]+$/;

/**
 * Throws `AppError` (EMPTY_MESSAGE / NOT_AN_EMAIL) with a reason an end user can act on.
 * Accepts LF, CRLF and CR-only line endings, an mbox `From ` envelope line, and 8-bit header bytes.
 */
export function assertEmailMessage(raw: Uint8Array): void {
  if (raw.length === 0 || isBlank(raw)) throw new AppError('EMPTY_MESSAGE');
  const scan = Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.length, MAX_HEADER_SCAN_BYTES));
  const text = scan.toString('latin1');
  // Control characters other than TAB, LF, CR, ESC (ISO-2022-JP) and FF do not occur in headers.
  let controls = 0;
  const headerEnd = findHeaderEnd(text);
  const head = headerEnd === -1 ? text : text.slice(0, headerEnd);
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 27 && c !== 12) || c === 127) controls++;
  }
  if (controls > 0 && controls > head.length / 100) {
    throw new AppError(
      'NOT_AN_EMAIL',
      `The bytes are not an e-mail message: the header block holds ${controls} binary control characters.`,
    );
  }
  const lines = head.split(/\r\n|\r|\n/);
  let i = 0;
  while (i < lines.length && lines[i] === '') i++;
  if (i < lines.length && lines[i].startsWith('From ')) i++; // mbox envelope line
  const first = lines[i] ?? '';
  const colon = first.indexOf(':');
  if (colon <= 0 || !FIELD_NAME.test(first.slice(0, colon).trimEnd())) {
    throw new AppError(
      'NOT_AN_EMAIL',
      'The bytes are not an e-mail message: they do not start with a header field (`Name: value`). Send the full ' +
        'source of the message, headers included.',
    );
  }
  let known = 0;
  for (; i < lines.length; i++) {
    const line = lines[i];
    if (line === '' || line[0] === ' ' || line[0] === '\t') continue;
    const c = line.indexOf(':');
    if (c > 0 && MESSAGE_HEADERS.has(line.slice(0, c).trim().toLowerCase())) known++;
  }
  if (known === 0) {
    throw new AppError(
      'NOT_AN_EMAIL',
      'The bytes are not an e-mail message: the header block has none of From, To, Subject, Date, Received, ' +
        'Message-ID.',
    );
  }
}

function isBlank(raw: Uint8Array): boolean {
  for (let i = 0; i < raw.length && i < 4096; i++) {
    const c = raw[i];
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return raw.length <= 4096;
}

function findHeaderEnd(text: string): number {
  const m = /\r\n\r\n|\n\n|\r\r|\n\r\n/.exec(text);
  return m ? m.index : -1;
}
