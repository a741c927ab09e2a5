/**
 * Stage 1, parse: the message as a reader and an analyst see it — addresses, dates, headers,
 * visible text (HTML rendered), attachments with declared and sniffed type and SHA-256, carried
 * messages, charsets and line endings. The MIME work itself is done by `decode.ts` (postal-mime,
 * limits on); this stage summarises it into `analysis.parse` and records what looks wrong.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Attachment, Email } from 'postal-mime';
import {
  MAX_ATTACHMENTS_KEPT,
  MAX_HEADERS_KEPT,
  MAX_HEADER_VALUE_CHARS,
  MAX_TEXT_EXCERPT_CHARS,
  MAX_VISIBLE_TEXT_CHARS,
  emptySections,
  type AttachmentInfo,
  type NestedMessage,
  type ParseResult,
} from '../analysis-schema.ts';
import { lineEndingsOf } from '../decode.ts';
import { clip, firstHeader, mailboxes, renderHtml } from '../parsed-email.ts';
import { isArchive, isExecutable, sniffType, typeMismatch } from '../sniff.ts';
import { attachmentContentFindings, htmlBodyFindings } from '../content-threats.ts';
import { defineStage, finding, type NestedDecoded, type StageFinding } from '../stage.ts';

/** How many bytes of the raw message are scanned for declared charsets. */
const CHARSET_SCAN_BYTES = 4 * 1024 * 1024;
const CHARSET_RE = /charset\s*=\s*["']?([A-Za-z0-9_.:+-]{1,40})/gi;
const ENCODED_WORD_RE = /=\?([A-Za-z0-9_.:+-]{1,40})(?:\*[A-Za-z-]{1,20})?\?[BbQq]\?/g;

const knownCharset = new Map<string, boolean>();
function decodable(label: string): boolean {
  let ok = knownCharset.get(label);
  if (ok === undefined) {
    try {
      new TextDecoder(label);
      ok = true;
    } catch {
      // postal-mime also knows cp/ms/x- aliases and code pages (decode-strings.ts).
      ok =
        /^(x-|cs|cp|ms|windows-|ibm)/.test(label) ||
        /^(us-)?ascii$|^utf-?8$|^8bit$|^7bit$|^binary$|^default$/.test(label);
    }
    if (knownCharset.size < 10_000) knownCharset.set(label, ok);
  }
  return ok;
}

/** Charsets declared in part headers and encoded words (RFC 2045 §5.1, RFC 2047 §2). */
export function declaredCharsets(raw: Uint8Array): string[] {
  const text = Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.length, CHARSET_SCAN_BYTES)).toString('latin1');
  const seen = new Set<string>();
  for (const re of [CHARSET_RE, ENCODED_WORD_RE]) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null && seen.size < 50; m = re.exec(text)) {
      // `charset=3Dutf-8` is a quoted-printable body's `charset=utf-8` (an HTML meta tag).
      const label = m[1].toLowerCase();
      seen.add(label.startsWith('3d') && decodable(label.slice(2)) ? label.slice(2) : label);
    }
  }
  return [...seen].sort();
}

function bytesOf(a: Attachment): Uint8Array {
  if (typeof a.content === 'string') return Buffer.from(a.content, a.encoding === 'base64' ? 'base64' : 'utf8');
  return a.content instanceof Uint8Array ? a.content : new Uint8Array(a.content);
}

function nestedSummary(n: NestedDecoded): NestedMessage {
  const text = n.email.text ?? renderHtml(n.email).text;
  return {
    subject: n.email.subject ?? null,
    from: mailboxes(n.email.from, 10),
    date: n.email.date ?? null,
    messageId: n.email.messageId ?? null,
    depth: n.depth,
    attachmentCount: n.email.attachments.length,
    textExcerpt: clip(text.trim(), MAX_TEXT_EXCERPT_CHARS),
  };
}

/**
 * Attachment records, carried messages' included (depth first). `findings` null: the look-up
 * profile, which reads only type, size and hash — no content scan, no carried-message summary.
 */
function attachmentInfos(
  email: Email,
  nested: readonly NestedDecoded[],
  prefix: string,
  out: AttachmentInfo[],
  findings: StageFinding[] | null,
): void {
  email.attachments.forEach((a, i) => {
    if (out.length >= MAX_ATTACHMENTS_KEPT) return;
    const part = prefix ? `${prefix}.${i}` : String(i);
    const bytes = bytesOf(a);
    const sniffed = sniffType(bytes);
    const carried = nested.find((n) => n.part === part);
    const info: AttachmentInfo = {
      filename: a.filename,
      declaredType: a.mimeType,
      sniffedType: sniffed,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      disposition: a.disposition,
      ...(carried && findings ? { nested: nestedSummary(carried) } : {}),
    };
    out.push(info);
    if (!findings) {
      if (carried) attachmentInfos(carried.email, nested, part, out, null);
      return;
    }
    const ev = {
      part: `attachment ${part}`,
      value: `${a.filename ?? '(no name)'} declared ${a.mimeType}, content ${sniffed ?? 'unrecognised'}`,
    };
    if (isExecutable(a.filename, sniffed))
      findings.push(
        finding('EXECUTABLE_ATTACHMENT', `Attachment ${a.filename ?? part} is executable or macro-capable.`, ev),
      );
    else if (isArchive(a.filename, sniffed))
      findings.push(finding('ARCHIVE_ATTACHMENT', `Attachment ${a.filename ?? part} is an archive.`, ev));
    if (typeMismatch(a.mimeType, sniffed))
      findings.push(
        finding(
          'ATTACHMENT_TYPE_MISMATCH',
          `Attachment ${a.filename ?? part} is ${sniffed} but declared ${a.mimeType}.`,
          ev,
        ),
      );
    findings.push(...attachmentContentFindings(a.filename, a.mimeType, sniffed, bytes, `attachment ${part}`));
    if (carried) {
      findings.push(
        finding(
          'NESTED_MESSAGE',
          `Attachment ${part} carries a message: "${clip(carried.email.subject ?? '', 120)}".`,
          { part: `attachment ${part}` },
        ),
      );
      attachmentInfos(carried.email, nested, part, out, findings);
    }
  });
}

function smsParse(text: string, sender: string, receivedAt: string | null): ParseResult {
  return {
    ...emptySections().parse,
    from: [{ name: '', address: sender }],
    date: receivedAt ? { raw: receivedAt, iso: receivedAt } : null,
    textExcerpt: clip(text, MAX_TEXT_EXCERPT_CHARS),
    visibleText: clip(text, MAX_VISIBLE_TEXT_CHARS),
    textPresent: true,
  };
}

export const parseStage = defineStage({
  id: 'parse',
  description:
    'Headers, addresses, visible text, attachments (declared vs sniffed type, SHA-256), carried messages, charsets.',
  kinds: ['email', 'sms'],
  params: z.object({}),
  run({ message }) {
    const findings: StageFinding[] = message.decodeProblems.map((p) =>
      finding(p.code, p.message, {
        rule: p.code === 'ANALYSIS_TRUNCATED' ? 'SPAMDESK_ANALYSIS_MAX_TEXT_BYTES' : 'postal-mime limits',
      }),
    );
    if (message.sms) {
      const s = message.sms;
      if (/[A-Za-z]/.test(s.sender) && !/^\+?[0-9 ]+$/.test(s.sender))
        findings.push(
          finding('SMS_ALPHANUMERIC_SENDER', `Sent under the sender id "${s.sender}".`, { value: s.sender }),
        );
      return { result: { parse: smsParse(s.text, s.sender, s.receivedAt) }, findings };
    }
    const { kind: lineEndings, bareCr } = lineEndingsOf(message.raw);
    const charsets = declaredCharsets(message.raw);
    const warnings = message.decodeProblems.map((p) => p.message);
    if (bareCr) warnings.push(`line endings: ${lineEndings} (parsed from a normalised copy; evidence unchanged)`);
    if (bareCr)
      findings.push(
        finding('BARE_LINE_ENDINGS', `The message uses ${lineEndings} line endings.`, { rule: 'RFC 5322 §2.3' }),
      );
    for (const c of charsets)
      if (!decodable(c))
        findings.push(
          finding('UNKNOWN_CHARSET', `Charset "${c}" is not known; its text may be garbled.`, { value: c }),
        );

    const email = message.email;
    if (!email)
      return {
        result: { parse: { ...emptySections().parse, lineEndings, charsets, parseWarnings: warnings } },
        findings,
      };

    const html = renderHtml(email);
    const text = email.text ?? '';
    const visible = email.html ? html.text : text;
    const attachments: AttachmentInfo[] = [];
    attachmentInfos(email, message.nested, '', attachments, findings);
    findings.push(
      ...htmlBodyFindings(email.html, 'text/html'),
      ...message.nested.flatMap((n) => htmlBodyFindings(n.email.html, `attachment ${n.part} text/html`)),
    );
    if (email.attachments.length > MAX_ATTACHMENTS_KEPT)
      warnings.push(`${email.attachments.length} attachments; first ${MAX_ATTACHMENTS_KEPT} kept`);

    const dateRaw = firstHeader(email, 'date');
    const iso = email.date && !Number.isNaN(Date.parse(email.date)) && /^\d{4}-/.test(email.date) ? email.date : null;
    const sender = mailboxes(email.sender, 1)[0] ?? null;
    const returnPath = firstHeader(email, 'return-path');
    const parse: ParseResult = {
      subject: email.subject ?? null,
      from: mailboxes(email.from),
      to: mailboxes(email.to),
      cc: mailboxes(email.cc),
      replyTo: mailboxes(email.replyTo),
      returnPath: returnPath === null ? null : returnPath.trim().replace(/^<|>$/g, '').trim(),
      sender,
      date: dateRaw === null ? null : { raw: clip(dateRaw, 200), iso },
      messageId: email.messageId ?? null,
      headers: email.headers
        .slice(0, MAX_HEADERS_KEPT)
        .map((h) => ({ name: h.originalKey, value: clip(h.value, MAX_HEADER_VALUE_CHARS) })),
      headerCount: email.headers.length,
      textExcerpt: clip((text || visible).trim(), MAX_TEXT_EXCERPT_CHARS),
      visibleText: clip(visible.trim(), MAX_VISIBLE_TEXT_CHARS),
      htmlPresent: Boolean(email.html),
      textPresent: Boolean(email.text),
      attachments,
      nestedDepth: message.nested.reduce((m, n) => Math.max(m, n.depth), 0),
      charsets,
      lineEndings,
      parseWarnings: warnings.slice(0, 50),
    };
    if (email.headers.length > MAX_HEADERS_KEPT)
      parse.parseWarnings.push(`${email.headers.length} headers; first ${MAX_HEADERS_KEPT} kept`);
    if (parse.from.length === 0)
      findings.push(
        finding('NO_FROM_HEADER', 'The message has no usable From header.', { header: 'From', rule: 'RFC 5322 §3.6' }),
      );
    if (dateRaw === null)
      findings.push(
        finding('NO_DATE_HEADER', 'The message has no Date header.', { header: 'Date', rule: 'RFC 5322 §3.6' }),
      );
    if (!parse.messageId)
      findings.push(
        finding('NO_MESSAGE_ID', 'The message has no Message-ID header.', {
          header: 'Message-ID',
          rule: 'RFC 5322 §3.6.4',
        }),
      );
    if (parse.htmlPresent && !parse.textPresent)
      findings.push(finding('HTML_ONLY', 'The message has HTML but no plain-text part.', { part: 'text/html' }));
    return { result: { parse }, findings };
  },
});

/**
 * The parse stage of the `lookup` profile: only what a look-up's fingerprint reads — subject,
 * recipients (their names are personalisation), visible text and attachments' type, size and
 * hash — computed exactly as {@link parseStage} does; no findings, headers, charsets or content
 * scans (`lookup-print.test.ts` checks the prints agree on corpus messages).
 */
export const lookupParseStage = defineStage({
  ...parseStage,
  description: 'Subject, recipients, visible text, attachment types and hashes: what a look-up fingerprints.',
  run({ message }) {
    if (message.sms) {
      const s = message.sms;
      return { result: { parse: smsParse(s.text, s.sender, s.receivedAt) } };
    }
    const email = message.email;
    if (!email) return { result: { parse: emptySections().parse } };
    const visible = email.html ? renderHtml(email).text : (email.text ?? '');
    const attachments: AttachmentInfo[] = [];
    attachmentInfos(email, message.nested, '', attachments, null);
    const parse: ParseResult = {
      ...emptySections().parse,
      subject: email.subject ?? null,
      from: mailboxes(email.from),
      to: mailboxes(email.to),
      cc: mailboxes(email.cc),
      visibleText: clip(visible.trim(), MAX_VISIBLE_TEXT_CHARS),
      htmlPresent: Boolean(email.html),
      textPresent: Boolean(email.text),
      attachments,
    };
    return { result: { parse } };
  },
});
