/**
 * The Abuse Reporting Format (RFC 5965), read back from raw bytes. A feedback report is a
 * `multipart/report; report-type=feedback-report` (RFC 6522) with three parts: a human-readable
 * part, a `message/feedback-report` of machine-readable fields (§3.1–3.3), and the original message
 * (`message/rfc822`) or only its header (`text/rfc822-headers`).
 *
 * Mailbox providers' feedback loops send these to us (channel `arf`); the actions area produces
 * them for ISPs and senders and parses them back with {@link parseArf} in its tests.
 */
import {
  decodeBody,
  decodeCharset,
  flattenMime,
  headerValue,
  isEmbeddedMessage,
  parseHeaderBlock,
  walkMime,
  type HeaderField,
  type MimeEntity,
} from '../../mail/mime-walk.ts';

/** RFC 5965 §7.3 registered feedback types (others are kept as written, lower-cased). */
export const FEEDBACK_TYPES = ['abuse', 'fraud', 'virus', 'other', 'not-spam', 'auth-failure'] as const;

/** Fields of the machine-readable part, one property per RFC 5965 §3 field. */
export interface ArfFields {
  /** §3.1 Feedback-Type (required), lower-case. */
  feedbackType: string;
  /** §3.1 User-Agent (required). */
  userAgent: string | null;
  /** §3.1 Version (required, "1"). */
  version: string | null;
  /** §3.2 Original-Envelope-Id. */
  originalEnvelopeId: string | null;
  /** §3.2 Original-Mail-From (angle brackets removed). */
  originalMailFrom: string | null;
  /** §3.2 Original-Rcpt-To (may repeat). */
  originalRcptTo: string[];
  /** §3.2 Arrival-Date (as written; `Received-Date` is a common pre-RFC spelling). */
  arrivalDate: string | null;
  /** Arrival-Date as ISO 8601 UTC, when it parses. */
  arrivalDateIso: string | null;
  /** §3.2 Reporting-MTA, the name without its `dns;` type. */
  reportingMta: string | null;
  /** §3.2 Source-IP. */
  sourceIp: string | null;
  /** §3.2 Incidents. */
  incidents: number | null;
  /** §3.3 Authentication-Results (may repeat). */
  authenticationResults: string[];
  /** §3.3 Reported-Domain (may repeat). */
  reportedDomain: string[];
  /** §3.3 Reported-URI (may repeat). */
  reportedUri: string[];
  /** RFC 6591 (auth-failure) and vendor fields we do not model, by lower-case name. */
  other: Record<string, string[]>;
}

/** A parsed feedback report. */
export interface ArfReport extends ArfFields {
  /** The original message (or only its header block), exact bytes; null when absent. */
  original: Buffer | null;
  /** How the original was included. */
  originalKind: 'message/rfc822' | 'text/rfc822-headers' | null;
  /** The human-readable first part, decoded (bounded). */
  humanReadable: string | null;
  /** Problems a strict reader would flag (missing required fields…); parsing still succeeds. */
  warnings: string[];
}

/** Longest human-readable text we keep. */
const MAX_HUMAN_CHARS = 8000;

/** True when the message is an RFC 5965 feedback report (or a multipart/report holding one). */
export function isArf(raw: Uint8Array): boolean {
  return findReportEntity(walkMime(raw)) !== null;
}

/**
 * Parses an ARF report. Returns null when `raw` is not a feedback report. Never throws on hostile
 * input: missing required fields become `warnings`.
 */
export function parseArf(raw: Uint8Array): ArfReport | null {
  const root = walkMime(raw);
  const report = findReportEntity(root);
  if (!report) return null;
  const parts = report.children;
  const fbPart = parts.find((p) => p.contentType === 'message/feedback-report');
  if (!fbPart) return null;
  const warnings: string[] = [];
  const fbBytes = decodeBody(raw, fbPart);
  const fields = parseFeedbackFields(fbBytes, warnings);

  let original: Buffer | null = null;
  let originalKind: ArfReport['originalKind'] = null;
  const origPart =
    parts.find((p) => isEmbeddedMessage(p)) ?? parts.find((p) => p.contentType === 'text/rfc822-headers');
  if (origPart) {
    // Identity for 7bit/8bit/binary (the exact bytes), decoded when a sender encoded the part.
    original = decodeBody(raw, origPart);
    originalKind = isEmbeddedMessage(origPart) ? 'message/rfc822' : 'text/rfc822-headers';
  } else {
    warnings.push('no original message or header part (RFC 5965 §2 item d)');
  }
  const human =
    parts[0] && parts[0] !== fbPart && parts[0].contentType.startsWith('text/') && parts[0] !== origPart
      ? parts[0]
      : null;
  const humanReadable = human
    ? decodeCharset(decodeBody(raw, human), human.params.charset ?? 'utf-8').slice(0, MAX_HUMAN_CHARS)
    : null;
  return { ...fields, original, originalKind, humanReadable, warnings };
}

/** The multipart/report entity holding a message/feedback-report, searched from the root. */
function findReportEntity(root: MimeEntity): MimeEntity | null {
  for (const e of flattenMime(root)) {
    if (e.depth > 3) continue;
    if (e.contentType !== 'multipart/report') continue;
    const rt = (e.params['report-type'] ?? '').toLowerCase();
    const hasFb = e.children.some((c) => c.contentType === 'message/feedback-report');
    if (hasFb && (rt === 'feedback-report' || rt === '')) return e;
  }
  return null;
}

/** Parses the `message/feedback-report` fields (RFC 5965 §3; a header-like block). */
export function parseFeedbackFields(body: Uint8Array, warnings: string[] = []): ArfFields {
  // The block is header-shaped; some senders put an empty line first.
  let start = 0;
  while (start < body.length && (body[start] === 0x0a || body[start] === 0x0d)) start++;
  const { fields } = parseHeaderBlock(body, start);
  const all = (n: string) =>
    fields
      .filter((f) => f.name.toLowerCase() === n)
      .map((f) => f.value.trim())
      .filter((v) => v !== '');
  const one = (n: string) => all(n)[0] ?? null;
  const feedbackType = (one('feedback-type') ?? '').toLowerCase();
  if (!feedbackType) warnings.push('Feedback-Type missing (RFC 5965 §3.1)');
  const userAgent = one('user-agent');
  if (!userAgent) warnings.push('User-Agent missing (RFC 5965 §3.1)');
  const version = one('version');
  if (!version) warnings.push('Version missing (RFC 5965 §3.1)');
  const arrivalDate = one('arrival-date') ?? one('received-date');
  const incidentsRaw = one('incidents');
  const known = new Set([
    'feedback-type',
    'user-agent',
    'version',
    'original-envelope-id',
    'original-mail-from',
    'original-rcpt-to',
    'arrival-date',
    'received-date',
    'reporting-mta',
    'source-ip',
    'incidents',
    'authentication-results',
    'reported-domain',
    'reported-uri',
  ]);
  const other: Record<string, string[]> = {};
  for (const f of fields as HeaderField[]) {
    const n = f.name.toLowerCase();
    if (known.has(n)) continue;
    other[n] ??= [];
    other[n].push(f.value.trim());
  }
  return {
    feedbackType: feedbackType || 'other',
    userAgent,
    version,
    originalEnvelopeId: one('original-envelope-id'),
    originalMailFrom: stripAngles(one('original-mail-from')),
    originalRcptTo: all('original-rcpt-to').map((v) => stripAngles(v) ?? v),
    arrivalDate,
    arrivalDateIso: toIso(arrivalDate),
    // RFC 3464 syntax `mta-name-type; mta-name` (RFC 5965 §3.2): keep the name.
    reportingMta: one('reporting-mta')?.replace(/^\s*[\w-]+\s*;\s*/, '') ?? null,
    // RFC 5965 §3.2: the address alone; some senders add the reverse name as a comment.
    sourceIp: stripComment(one('source-ip')),
    incidents: incidentsRaw !== null && /^\d+$/.test(incidentsRaw) ? Number(incidentsRaw) : null,
    authenticationResults: all('authentication-results'),
    reportedDomain: all('reported-domain').map((d) => d.toLowerCase()),
    reportedUri: all('reported-uri'),
    other,
  };
}

function stripAngles(v: string | null): string | null {
  if (v === null) return null;
  const m = /<([^>]*)>/.exec(v);
  return (m ? m[1] : v).trim();
}

function stripComment(v: string | null): string | null {
  if (v === null) return null;
  const bare = v.replace(/\([^)]*\)/g, '').trim();
  return bare === '' ? null : bare;
}

function toIso(v: string | null): string | null {
  if (!v) return null;
  const t = Date.parse(v.replace(/\([^)]*\)/g, '').trim());
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

/** The top-level header of an ARF wrapper (who sent the feedback report). */
export function arfSender(raw: Uint8Array): string | null {
  return headerValue(parseHeaderBlock(raw).fields, 'from');
}
