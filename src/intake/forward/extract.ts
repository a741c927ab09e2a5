/**
 * What did the reporter send us? A mail arriving at the reporting mailbox is one of:
 * - a feedback report (RFC 5965 ARF) from a mailbox provider's feedback loop;
 * - a forward **as attachment**: one or more `message/rfc822` parts (RFC 2046 §5.2.1), or `.eml`
 *   files, each an exact original — the forwarding wrapper is kept as context;
 * - a redirect/bounce (RFC 5322 §3.6.6 `Resent-*` fields): the mail itself is the original;
 * - an **inline** forward: the original's text and some of its headers inside the body, recovered
 *   as a lower-quality report.
 * Anything else is refused with `NO_ATTACHED_MESSAGE` and a reason the user can act on.
 */
import { AppError } from '../../core/errors.ts';
import { sha256Hex } from '../../core/ids.ts';
import { assertEmailMessage } from '../../evidence/message-check.ts';
import { parseArf, type ArfReport } from '../arf/parse-arf.ts';
import {
  decodeBody,
  decodeCharset,
  decodeEncodedWords,
  headerValue,
  isEmbeddedMessage,
  parseHeaderBlock,
  walkMime,
  type MimeEntity,
} from '../../mail/mime-walk.ts';
import { htmlToText, recoverInlineForward } from './inline.ts';

/** Most originals one forwarding mail may carry. */
export const MAX_ORIGINALS_PER_MAIL = 50;
/** Longest note (the user's own text in the wrapper) we keep. */
export const MAX_NOTE_CHARS = 4000;
/** Largest text part we scan for an inline forward. */
const MAX_INLINE_SCAN_BYTES = 2 * 1024 * 1024;

/** The forwarding mail itself, kept as context of the reports it carries. */
export interface WrapperInfo {
  sha256: string;
  size: number;
  from: string | null;
  /** The address in From, lower-cased, or null. */
  fromAddress: string | null;
  /** The display name in From, decoded, or null. */
  fromName: string | null;
  subject: string | null;
  date: string | null;
  messageId: string | null;
  resentFrom: string | null;
}

/** One original found in the mail. */
export interface ExtractedOriginal {
  raw: Buffer;
  quality: 'full' | 'inline';
  how: 'attached' | 'eml-file' | 'resent' | 'inline' | 'arf';
  /** The attachment's file name, when it had one. */
  filename: string | null;
  /** Transfer encoding the attachment was sent with (the stored bytes are decoded). */
  transferEncoding: string | null;
  /** True when the stored bytes are the received mail itself (ARF without usable original, redirect). */
  wholeMail?: boolean;
  /** For inline recoveries: the header fields recovered. */
  recoveredHeaders?: string[];
}

export interface Extraction {
  wrapper: WrapperInfo;
  originals: ExtractedOriginal[];
  /** Set when the mail is an RFC 5965 feedback report. */
  arf: ArfReport | null;
  /** The user's own text in the wrapper (bounded), or null. */
  note: string | null;
}

/**
 * Finds the reported original(s) in a mail sent to the reporting mailbox.
 * Throws `AppError('NO_ATTACHED_MESSAGE')` when there is nothing to report.
 */
export function extractForwarded(raw: Buffer): Extraction {
  const root = walkMime(raw);
  const wrapper = wrapperInfo(raw, root);

  const arf = parseArf(raw);
  if (arf) {
    const usable = arf.original !== null && isEmail(arf.original);
    // Without a usable original (absent, or redacted by the provider) the report itself is the evidence.
    const original: ExtractedOriginal =
      usable && arf.original
        ? { raw: arf.original, quality: 'full', how: 'arf', filename: null, transferEncoding: null }
        : { raw, quality: 'full', how: 'arf', filename: null, transferEncoding: null, wholeMail: true };
    return { wrapper, originals: [original], arf, note: null };
  }

  // A redirect is the original itself: the messages it carries are the spam's own attachments (a review had an
  // attached .eml with a forged chain taken as the reported message).
  if (wrapper.resentFrom)
    return {
      wrapper,
      originals: [{ raw, quality: 'full', how: 'resent', filename: null, transferEncoding: null, wholeMail: true }],
      arf: null,
      note: null,
    };

  const attached = attachedMessages(raw, root);
  if (attached.length > MAX_ORIGINALS_PER_MAIL) {
    throw new AppError(
      'NO_ATTACHED_MESSAGE',
      `The mail carries ${attached.length} attached messages; at most ${MAX_ORIGINALS_PER_MAIL} are accepted per mail.`,
    );
  }
  const text = firstText(raw, root);
  const inline = text ? recoverInlineForward(text, wrapper.sha256) : null;
  // An inline forward carries the spam's own attachments again: a message the spam carried (a bounce's returned
  // mail, a phishing's attached .eml, whose chain the spammer may have written) is no forwarded original. An attached
  // message is the original only when it is the one the forward's header block describes, or when there is none.
  if (attached.length > 0 && !(inline !== null && describesNone(inline.headers, attached)))
    return { wrapper, originals: attached, arf: null, note: wrapperNote(raw, root) };

  if (inline) {
    return {
      wrapper,
      originals: [
        {
          raw: inline.raw,
          quality: 'inline',
          how: 'inline',
          filename: null,
          transferEncoding: null,
          recoveredHeaders: inline.headers,
        },
      ],
      arf: null,
      note: inline.note ? inline.note.slice(0, MAX_NOTE_CHARS) : null,
    };
  }
  throw new AppError(
    'NO_ATTACHED_MESSAGE',
    'No attached message found: forward the spam as an attachment ("Forward as Attachment"), so that its full ' +
      'headers reach us.',
  );
}

/**
 * Whether an inline forward's header block names a message (by its Subject, else its From) and none of the attached
 * messages is that one. A block naming neither says nothing against the attachments.
 */
function describesNone(headers: readonly string[], attached: readonly ExtractedOriginal[]): boolean {
  const field = (name: string, subjectLine = false): string | null => {
    const line = headers.find((h) => h.toLowerCase().startsWith(`${name}:`));
    return line === undefined ? null : normalised(line.slice(name.length + 1), subjectLine);
  };
  const subject = field('subject', true);
  const from = field('from');
  if (!subject && !from) return false;
  return !attached.some((a) => {
    const { fields } = parseHeaderBlock(a.raw);
    const theirs = (name: string): string =>
      normalised(decodeEncodedWords(headerValue(fields, name) ?? ''), name === 'subject');
    if (subject) return theirs('subject') === subject;
    return from !== null && (theirs('from').includes(from) || from.includes(theirs('from')));
  });
}

/** Reply and forward prefixes clients put before a subject (English, French, German, Nordic, Spanish, Italian). */
const SUBJECT_PREFIX = /^(?:(?:re|fwd?|tr|wg|aw|sv|vs|rv|enc|i|r)\s*(?:\[\d+\])?\s*:\s*)+/i;

/**
 * A header value as clients show it: white space collapsed, lower case; a subject without its reply and forward
 * prefixes (a colleague's "Fwd: <the spam's subject>" with the spam attached describes that spam).
 */
function normalised(v: string, subject = false): string {
  const s = v.replace(/\s+/g, ' ').trim().toLowerCase();
  return subject ? s.replace(SUBJECT_PREFIX, '') : s;
}

function isEmail(raw: Uint8Array): boolean {
  try {
    assertEmailMessage(raw);
    return true;
  } catch {
    return false;
  }
}

/**
 * Attached originals: `message/rfc822` / `message/global` parts and `.eml` files, but not the
 * messages nested inside those (a spam that itself carries a message is one report).
 */
function attachedMessages(raw: Buffer, root: MimeEntity): ExtractedOriginal[] {
  const out: ExtractedOriginal[] = [];
  const visit = (e: MimeEntity): void => {
    // The root itself may be `message/rfc822`: a forward with no text of its own (RFC 2046 §5.2.1).
    if (isEmbeddedMessage(e)) {
      const bytes = decodeBody(raw, e);
      if (bytes.length > 0 && isEmail(bytes)) {
        out.push({
          raw: bytes,
          quality: 'full',
          how: 'attached',
          filename: filenameOf(e),
          transferEncoding: e.transferEncoding,
        });
      }
      return;
    }
    if (e !== root && isEmlFile(e)) {
      const bytes = decodeBody(raw, e);
      if (isEmail(bytes))
        out.push({
          raw: bytes,
          quality: 'full',
          how: 'eml-file',
          filename: filenameOf(e),
          transferEncoding: e.transferEncoding,
        });
      return;
    }
    for (const c of e.children) visit(c);
  };
  visit(root);
  return out;
}

function isEmlFile(e: MimeEntity): boolean {
  const name = filenameOf(e);
  if (!name || !/\.(eml|msg\.txt)$/i.test(name)) return false;
  return (
    e.contentType === 'application/octet-stream' ||
    e.contentType === 'text/plain' ||
    e.contentType === 'application/eml'
  );
}

function filenameOf(e: MimeEntity): string | null {
  const n = e.dispositionParams.filename ?? e.params.name ?? null;
  return n ? decodeEncodedWords(n).slice(0, 255) : null;
}

/** The first text part of the wrapper (not inside an attached message), decoded. */
function firstText(raw: Buffer, root: MimeEntity): string | null {
  let html: string | null = null;
  const stack: MimeEntity[] = [root];
  while (stack.length > 0) {
    const e = stack.shift();
    if (!e) break;
    if (e !== root && isEmbeddedMessage(e)) continue;
    if (e.children.length > 0) {
      stack.unshift(...e.children);
      continue;
    }
    if (e.disposition === 'attachment') continue;
    if (e.end - e.bodyStart > MAX_INLINE_SCAN_BYTES) continue;
    if (e.contentType === 'text/plain') return decodeCharset(decodeBody(raw, e), e.params.charset ?? 'utf-8');
    if (e.contentType === 'text/html' && html === null)
      html = htmlToText(decodeCharset(decodeBody(raw, e), e.params.charset ?? 'utf-8'));
  }
  return html;
}

/** The user's own words in a forward-as-attachment wrapper. */
function wrapperNote(raw: Buffer, root: MimeEntity): string | null {
  const text = firstText(raw, root);
  const note = text?.trim() ?? '';
  return note === '' ? null : note.slice(0, MAX_NOTE_CHARS);
}

function wrapperInfo(raw: Buffer, root: MimeEntity): WrapperInfo {
  const h = root.headers;
  const from = headerValue(h, 'from');
  const decodedFrom = from ? decodeEncodedWords(from) : null;
  const addr = decodedFrom ? parseMailbox(decodedFrom) : null;
  return {
    sha256: sha256Hex(raw),
    size: raw.length,
    from: decodedFrom,
    fromAddress: addr?.address ?? null,
    fromName: addr?.name ?? null,
    subject: decodeOrNull(headerValue(h, 'subject')),
    date: headerValue(h, 'date'),
    messageId: headerValue(h, 'message-id'),
    resentFrom: decodeOrNull(headerValue(h, 'resent-from')),
  };
}

function decodeOrNull(v: string | null): string | null {
  return v === null ? null : decodeEncodedWords(v).slice(0, 998);
}

/** `"Name" <addr>` / `addr (Name)` / `addr` → parts; null when there is no address. */
export function parseMailbox(value: string): { address: string; name: string | null } | null {
  const angle = /^(.*)<\s*([^<>\s]+@[^<>\s]+)\s*>/.exec(value);
  if (angle) {
    const name = angle[1]
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .trim();
    return { address: angle[2].toLowerCase(), name: name || null };
  }
  const bare = /([^\s<>()",;:]+@[^\s<>()",;:]+)/.exec(value);
  if (!bare) return null;
  const comment = /\(([^)]*)\)/.exec(value);
  return { address: bare[1].toLowerCase(), name: comment ? comment[1].trim() || null : null };
}
