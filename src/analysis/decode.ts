/**
 * Turns evidence bytes into a {@link DecodedMessage}: SMS evidence is read back as JSON; e-mail is
 * parsed by postal-mime with its limits on (STYLE.md: always set `maxNestingDepth` and
 * `maxHeadersSize`), on a COPY whose bare CR line endings are normalised (the evidence itself is
 * never altered). Carried messages (message/rfc822) are kept as attachments by postal-mime and
 * parsed here recursively, up to the configured depth and the decoded-bytes budget.
 */
import PostalMime, { type Email } from 'postal-mime';
import { parseSmsEvidence } from '../evidence/sms-format.ts';
import type { FindingCode } from './findings.ts';
import { DEFAULT_MAX_TEXT, type AnalysisSettings, type DecodedMessage, type NestedDecoded } from './stage.ts';

/** postal-mime: deepest MIME multipart nesting accepted (its default is 256). */
export const MAX_MIME_NESTING = 50;
/** postal-mime: total header bytes across all parts (its default is 2 MiB). */
export const MAX_HEADERS_BYTES = 1024 * 1024;

export type LineEndings = 'crlf' | 'lf' | 'cr' | 'mixed' | 'none';

/** Classifies line endings in one pass over the bytes (a native search when there is no CR at all, the common case). */
export function lineEndingsOf(raw: Uint8Array): { kind: LineEndings; bareCr: boolean } {
  if (raw.indexOf(0x0d) < 0) return { kind: raw.indexOf(0x0a) < 0 ? 'none' : 'lf', bareCr: false };
  let crlf = 0;
  let lf = 0;
  let cr = 0;
  const n = raw.length;
  for (let i = 0; i < n; i++) {
    const b = raw[i];
    if (b === 0x0d) {
      if (i + 1 < n && raw[i + 1] === 0x0a) {
        crlf++;
        i++;
      } else cr++;
    } else if (b === 0x0a) lf++;
  }
  const kinds = (crlf > 0 ? 1 : 0) + (lf > 0 ? 1 : 0) + (cr > 0 ? 1 : 0);
  const kind: LineEndings = kinds === 0 ? 'none' : kinds > 1 ? 'mixed' : crlf > 0 ? 'crlf' : lf > 0 ? 'lf' : 'cr';
  return { kind, bareCr: cr > 0 };
}

/**
 * A copy with every bare CR turned into LF, for parsers that split on LF (postal-mime does; LF-only
 * input is already fine). Returns the input itself when it has no bare CR.
 */
export function normaliseBareCr(raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(raw.length);
  const n = raw.length;
  for (let i = 0; i < n; i++) {
    const b = raw[i];
    out[i] = b === 0x0d && (i + 1 >= n || raw[i + 1] !== 0x0a) ? 0x0a : b;
  }
  return out;
}

function limitProblem(e: unknown): { code: FindingCode; message: string } {
  const message = e instanceof Error ? e.message : String(e);
  return { code: /Maximum/i.test(message) ? 'PARSE_LIMIT_REACHED' : 'PARSE_ERROR', message: message.slice(0, 500) };
}

async function parseEmail(bytes: Uint8Array): Promise<Email> {
  return PostalMime.parse(bytes, {
    maxNestingDepth: MAX_MIME_NESTING,
    maxHeadersSize: MAX_HEADERS_BYTES,
    // Carried messages stay attachments: they are parsed here, each on its own, so a forwarded
    // spam is not blended into the text of the message that carries it.
    forceRfc822Attachments: true,
    maxRfc822NestingDepth: 0,
    attachmentEncoding: 'arraybuffer',
  });
}

function contentBytes(content: ArrayBuffer | Uint8Array | string): Uint8Array {
  if (typeof content === 'string') return new TextEncoder().encode(content);
  return content instanceof Uint8Array ? content : new Uint8Array(content);
}

/** Decoded size of a parsed message: text, HTML and attachment bytes. */
export function decodedSize(email: Email): number {
  let n = (email.text?.length ?? 0) + (email.html?.length ?? 0);
  for (const a of email.attachments) n += typeof a.content === 'string' ? a.content.length : a.content.byteLength;
  return n;
}

/**
 * The parse copy without a leading mbox `From ` separator line (mbox exports and corpora keep it;
 * it is not a header, RFC 4155), with bare CRs normalised. The evidence itself is untouched.
 */
export function parseCopy(raw: Uint8Array): Uint8Array {
  let bytes = raw;
  if (raw.length > 5 && raw[0] === 0x46 && raw[1] === 0x72 && raw[2] === 0x6f && raw[3] === 0x6d && raw[4] === 0x20) {
    let eol = raw.indexOf(0x0a);
    const cr = raw.indexOf(0x0d);
    if (cr >= 0 && (eol < 0 || cr < eol)) eol = raw[cr + 1] === 0x0a ? cr + 1 : cr;
    bytes = eol < 0 ? raw : raw.subarray(eol + 1);
  }
  return lineEndingsOf(bytes).bareCr ? normaliseBareCr(bytes) : bytes;
}

/**
 * Cuts a parsed message's text and HTML to `max` characters each, in place (the parse result is
 * this module's own). postal-mime joins the text parts in order, so what is kept is the first part
 * and whatever follows it up to the bound: a phishing message padded with 300,000 lines is
 * analysed as the phishing message, with an ANALYSIS_TRUNCATED finding, instead of running out of
 * time. A cut never splits a surrogate pair.
 */
export function capText(
  email: Email,
  part: string,
  max: number,
  problems: { code: FindingCode; message: string }[],
): void {
  const cut = (s: string): string => {
    const end = max > 0 && s.charCodeAt(max - 1) >= 0xd800 && s.charCodeAt(max - 1) <= 0xdbff ? max - 1 : max;
    return s.slice(0, end);
  };
  const where = part ? ` of the carried message at part ${part}` : '';
  if (email.text !== undefined && email.text.length > max) {
    problems.push({
      code: 'ANALYSIS_TRUNCATED',
      message: `text${where} of ${email.text.length} characters cut to ${max} (SPAMDESK_ANALYSIS_MAX_TEXT_BYTES)`,
    });
    email.text = cut(email.text);
  }
  if (email.html !== undefined && email.html.length > max) {
    problems.push({
      code: 'ANALYSIS_TRUNCATED',
      message: `HTML${where} of ${email.html.length} characters cut to ${max} (SPAMDESK_ANALYSIS_MAX_TEXT_BYTES)`,
    });
    email.html = cut(email.html);
  }
}

/** Parses evidence bytes. Never throws: failures become `decodeProblems`. */
export async function decodeMessage(
  raw: Uint8Array,
  sha256: string,
  settings: AnalysisSettings,
): Promise<DecodedMessage> {
  const sms = parseSmsEvidence(raw);
  if (sms) return { kind: 'sms', raw, sha256, email: null, sms, nested: [], decodeProblems: [] };

  const problems: { code: FindingCode; message: string }[] = [];
  if (raw.length > settings.maxDecodedBytes) {
    problems.push({
      code: 'PARSE_LIMIT_REACHED',
      message: `message of ${raw.length} bytes exceeds the decoded-content bound of ${settings.maxDecodedBytes}`,
    });
    return { kind: 'email', raw, sha256, email: null, sms: null, nested: [], decodeProblems: problems };
  }
  let email: Email | null = null;
  try {
    email = await parseEmail(parseCopy(raw));
  } catch (e) {
    problems.push(limitProblem(e));
    return { kind: 'email', raw, sha256, email: null, sms: null, nested: [], decodeProblems: problems };
  }

  capText(email, '', settings.maxTextBytes ?? DEFAULT_MAX_TEXT, problems);
  let budget = settings.maxDecodedBytes - decodedSize(email);
  const nested: NestedDecoded[] = [];
  // Depth-first; recursion is bounded by maxNestingDepth, bytes by the decoded-content budget.
  const walk = async (parent: Email, prefix: string, depth: number): Promise<void> => {
    for (let i = 0; i < parent.attachments.length; i++) {
      const a = parent.attachments[i];
      if (a.mimeType !== 'message/rfc822' && a.mimeType !== 'message/global') continue;
      const part = prefix ? `${prefix}.${i}` : String(i);
      if (depth + 1 > settings.maxNestingDepth) {
        problems.push({
          code: 'PARSE_LIMIT_REACHED',
          message: `carried message at part ${part} is deeper than ${settings.maxNestingDepth} levels; kept as an \
attachment`,
        });
        continue;
      }
      const bytes = contentBytes(a.content);
      if (bytes.length > budget) {
        problems.push({
          code: 'PARSE_LIMIT_REACHED',
          message: `decoded-content bound reached; carried message at part ${part} not parsed`,
        });
        continue;
      }
      try {
        const child = await parseEmail(parseCopy(bytes));
        capText(child, part, settings.maxTextBytes ?? DEFAULT_MAX_TEXT, problems);
        budget -= decodedSize(child);
        nested.push({ part, depth: depth + 1, email: child });
        await walk(child, part, depth + 1);
      } catch (e) {
        problems.push(limitProblem(e));
      }
    }
  };
  await walk(email, '', 0);
  return { kind: 'email', raw, sha256, email, sms: null, nested, decodeProblems: problems };
}
