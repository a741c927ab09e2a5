/**
 * The one redaction function for everything that leaves the platform or that a non-analyst sees
 * (ISP alerts, sender feedback, referrals, partner exchanges, feeds, operator and authority
 * views): it removes the reporter's identity from a copy of a message or a text, SpamCop-style,
 * and never touches stored evidence (it returns new bytes; DESIGN.md "Evidence first").
 *
 * What counts as the reporter's identity (redact-identity.ts): their addresses (also the local
 * part alone when distinctive, and their own mail domain's host names unless a shared provider
 * hosts it), their name (whole and by parts, any case, with or without accents), their phone
 * numbers, and the recipients the message itself names (To, Cc, Delivered-To, X-Original-To,
 * Received `for <…>`, with their display names): a spam's recipient is its reporter.
 * Where and how it is found (redact-text.ts): plain, percent-encoded, `+`-encoded, HTML
 * character references, quoted-printable, base64 and base64url at any alignment, MD5 / SHA-1 /
 * SHA-256 hex; in headers (also inside RFC 2047 encoded-words, adjacent words decoded together,
 * and RFC 2231 parameters) and bodies (base64 and quoted-printable parts are decoded, redacted and
 * re-encoded, embedded messages at any depth).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { getMessageRaw } from './store.ts';
import { parseSmsEvidence, serializeSmsEvidence } from './sms-format.ts';
import {
  decodeCharset,
  decodeQuotedPrintable,
  decodeTransfer,
  headerValues,
  parseHeaderBlock,
  walkMime,
  type MimeEntity,
} from '../mail/mime-walk.ts';
import {
  identityForms,
  mergeIdentities,
  reporterIdentityOf,
  type RecipientIdentity,
  type ReporterIdentity,
} from './redact-identity.ts';
import { compileRedactor, type Counter, type TextRedactor } from './redact-text.ts';

export type { ReporterIdentity, RecipientIdentity };
export { reporterIdentityOf, mergeIdentities };
export { REDACTED_ADDRESS, REDACTED_DOMAIN, REDACTED_NUMBER, REDACTED_TEXT, base64Fragments } from './redact-text.ts';

export interface RedactOptions {
  /** Also redact the message's own recipients (fields and display names; default true). */
  recipients?: boolean;
}

export interface RedactionResult {
  /** The redacted copy. */
  raw: Buffer;
  /** How many occurrences were replaced. */
  replacements: number;
}

/** Deepest embedded encoded message we decode and redact. */
const MAX_DEPTH = 8;
/** Longest text value {@link Redactor.value} redacts (longer strings are cut: artefacts bound them anyway). */
const MAX_VALUE_CHARS = 4 * 1024 * 1024;

/**
 * A redactor compiled once for an identity, to apply to many texts (a case summary, a page of
 * reports): compiling costs far more than one short text.
 */
export class Redactor {
  private readonly text: TextRedactor;
  constructor(identity: ReporterIdentity, recipients?: RecipientIdentity) {
    this.text = compileRedactor(identityForms(identity, recipients));
  }

  /** A redacted copy of a Unicode string. */
  string(s: string, counter: Counter = { n: 0 }): string {
    if (s.length === 0) return s;
    const latin = Buffer.from(s.length > MAX_VALUE_CHARS ? s.slice(0, MAX_VALUE_CHARS) : s, 'utf8').toString('latin1');
    const out = this.text.redact(latin, counter);
    return out === latin ? s : Buffer.from(out, 'latin1').toString('utf8');
  }

  /** A redacted deep copy of a JSON-like value: every string (keys too) redacted. */
  value<T>(v: T, counter: Counter = { n: 0 }): T {
    return redactDeep(v, (s) => this.string(s, counter)) as T;
  }

  /**
   * A redacted copy of a JSON-serialisable value, redacted as one JSON text (one pass however
   * many strings it holds; replacements hold no quote or backslash, so the JSON stays valid),
   * string by string if that ever fails to parse back.
   */
  json<T>(v: T, counter: Counter = { n: 0 }): T {
    const text = JSON.stringify(v);
    if (text === undefined) return v;
    const out = this.string(text, counter);
    if (out === text) return v;
    try {
      return JSON.parse(out) as T;
    } catch {
      return this.value(v, counter);
    }
  }

  /** Redacts a latin1 view (bytes as characters). */
  latin1(s: string, counter: Counter): string {
    return this.text.redact(s, counter);
  }
}

function redactDeep(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => redactDeep(x, f));
  if (v && typeof v === 'object' && !(v instanceof Uint8Array) && !(v instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[f(k)] = redactDeep(x, f);
    return out;
  }
  return v;
}

/**
 * Returns a copy of `raw` with the reporter's identity removed. `raw` itself is never modified.
 */
export function redactReporter(raw: Uint8Array, identity: ReporterIdentity, opts: RedactOptions = {}): RedactionResult {
  const buf = identity.redirect === true ? withoutRedirectFields(raw) : Buffer.from(raw);
  const recipients = opts.recipients === false ? undefined : allRecipients(buf, 0);
  const redactor = new Redactor(identity, recipients);
  const counter = { n: 0 };
  const out = redactMessage(buf, redactor, counter, 0);
  return { raw: out, replacements: counter.n };
}

/**
 * A copy of a redirected message without the header fields above its topmost resent block (RFC 5322 §3.6.6): those
 * were added after the reporter resent it (their machine logged in at their provider, the provider's relays, this
 * instance's intake) and name the reporter's own address at home. The message as the reporter received it starts
 * at the block. Unchanged when there is no resent block.
 */
export function withoutRedirectFields(raw: Uint8Array): Buffer {
  const buf = Buffer.from(raw);
  const head = buf.subarray(0, Math.min(buf.length, 1024 * 1024)).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const block = end < 0 ? head : head.slice(0, end);
  const m = /(?:^|\n)(resent-[a-z-]*:)/i.exec(block);
  if (m === null) return buf;
  const at = m.index + (block[m.index] === '\n' ? 1 : 0);
  return at === 0 ? buf : Buffer.from(buf.subarray(at));
}

/** Redacts a text artefact (JSON, CSV, a subject, a note) with the same rules. */
export function redactText(text: string, identity: ReporterIdentity, recipients?: RecipientIdentity): string {
  return new Redactor(identity, recipients).string(text);
}

/** A redacted deep copy of a JSON-like value (a summary, an API view). */
export function redactValue<T>(value: T, identity: ReporterIdentity, recipients?: RecipientIdentity): T {
  return new Redactor(identity, recipients).value(value);
}

/** Most other addresses or numbers of one account taken into its identity. */
const MAX_ACCOUNT_IDENTIFIERS = 50;

/**
 * What else the platform knows of these accounts: the addresses and numbers they reported from
 * (an account that once reported an SMS has given its phone number, which a spam may repeat).
 */
export async function accountIdentifiers(
  db: Kysely<Database>,
  userIds: readonly string[],
): Promise<Map<string, ReporterIdentity>> {
  const out = new Map<string, ReporterIdentity>();
  for (let i = 0; i < userIds.length; i += 500) {
    const rows = await db
      .selectFrom('reports')
      .select(['reporter_user_id', 'reporter_address'])
      .distinct()
      .where('reporter_user_id', 'in', userIds.slice(i, i + 500))
      .where('reporter_address', 'is not', null)
      .limit(MAX_ACCOUNT_IDENTIFIERS * 500)
      .execute();
    for (const r of rows) {
      if (!r.reporter_user_id || !r.reporter_address) continue;
      const id = out.get(r.reporter_user_id) ?? { addresses: [], names: [], numbers: [] };
      if (id.addresses.length + id.numbers.length >= MAX_ACCOUNT_IDENTIFIERS) continue;
      (r.reporter_address.includes('@') ? id.addresses : id.numbers).push(r.reporter_address);
      out.set(r.reporter_user_id, id);
    }
  }
  return out;
}

/** Reports whose identities are read per statement (bounded IN lists). */
const IDENTITY_CHUNK = 500;

/**
 * The reporter identity of each stored report (its address, account, forwarding wrapper, the
 * account's other identifiers), two statements per 500 reports; absent: no such report.
 */
export async function identitiesByReport(
  db: Kysely<Database>,
  reportIds: readonly string[],
): Promise<Map<string, ReporterIdentity>> {
  const out = new Map<string, ReporterIdentity>();
  for (let i = 0; i < reportIds.length; i += IDENTITY_CHUNK) {
    const rows = await db
      .selectFrom('reports as r')
      .leftJoin('users as u', 'u.id', 'r.reporter_user_id')
      .select(['r.id', 'r.reporter_address', 'r.reporter_user_id', 'r.context', 'u.email', 'u.name'])
      .where('r.id', 'in', reportIds.slice(i, i + IDENTITY_CHUNK))
      .execute();
    const accounts = await accountIdentifiers(db, [
      ...new Set(rows.map((r) => r.reporter_user_id).filter((u): u is string => u !== null)),
    ]);
    for (const r of rows) {
      const own = reporterIdentityOf(r, r.email ? { email: r.email, name: r.name } : null);
      const more = r.reporter_user_id ? accounts.get(r.reporter_user_id) : undefined;
      out.set(r.id, more ? mergeIdentities([own, more]) : own);
    }
  }
  return out;
}

/** The reporter identity of one stored report (no identifiers when there is no such report). */
export async function identityOfReport(db: Kysely<Database>, reportId: string): Promise<ReporterIdentity> {
  return (await identitiesByReport(db, [reportId])).get(reportId) ?? { addresses: [], names: [], numbers: [] };
}

/**
 * The redacted copy of a stored report's evidence, ready to leave the platform: loads the report,
 * its reporter's account and the evidence, and redacts the reporter's identity (for SMS evidence:
 * from the text, the canonical JSON kept). Null when the report or its evidence does not exist.
 * The stored evidence is read, never written.
 */
export async function redactedEvidenceOf(
  db: Kysely<Database>,
  reportId: string,
): Promise<(RedactionResult & { identity: ReporterIdentity; kind: 'email' | 'sms' }) | null> {
  const report = await db
    .selectFrom('reports')
    .select(['message_sha256'])
    .where('id', '=', reportId)
    .executeTakeFirst();
  if (!report) return null;
  const raw = await getMessageRaw(db, report.message_sha256);
  if (!raw) return null;
  const identity = await identityOfReport(db, reportId);
  const sms = parseSmsEvidence(raw);
  if (sms) {
    const text = redactText(sms.text, identity);
    return {
      raw: serializeSmsEvidence({ sender: sms.sender, text, receivedAt: sms.receivedAt }),
      replacements: text === sms.text ? 0 : 1,
      identity,
      kind: 'sms',
    };
  }
  return { ...redactReporter(raw, identity), identity, kind: 'email' };
}

function redactMessage(buf: Buffer, redactor: Redactor, counter: Counter, depth: number): Buffer {
  const root = walkMime(buf);
  const edits: { start: number; end: number; bytes: Buffer }[] = [];
  collectEdits(buf, root, redactor, counter, depth, edits);
  edits.sort((a, b) => a.start - b.start);
  const pieces: Buffer[] = [];
  let pos = 0;
  for (const e of edits) {
    if (e.start < pos) continue;
    pieces.push(buf.subarray(pos, e.start), e.bytes);
    pos = e.end;
  }
  pieces.push(buf.subarray(pos));
  // A last pass over everything: 7bit/8bit bodies, preambles, malformed structure.
  const joined = Buffer.concat(pieces).toString('latin1');
  return Buffer.from(redactor.latin1(joined, counter), 'latin1');
}

function collectEdits(
  buf: Buffer,
  e: MimeEntity,
  redactor: Redactor,
  counter: Counter,
  depth: number,
  edits: { start: number; end: number; bytes: Buffer }[],
): void {
  const headerEnd = parseHeaderBlock(buf, e.start, e.end).headerEnd;
  const headers = buf.subarray(e.start, headerEnd).toString('latin1');
  const redactedHeaders = redactor.latin1(redactEncodedWords(headers, redactor, counter), counter);
  if (redactedHeaders !== headers)
    edits.push({ start: e.start, end: headerEnd, bytes: Buffer.from(redactedHeaders, 'latin1') });
  if (e.children.length > 0) {
    for (const c of e.children) collectEdits(buf, c, redactor, counter, depth, edits);
    return;
  }
  const cte = e.transferEncoding;
  if (cte !== 'base64' && cte !== 'quoted-printable') return;
  const body = buf.subarray(e.bodyStart, e.end);
  const decoded = decodeTransfer(Buffer.from(body), cte);
  const before = counter.n;
  const embedded = e.contentType === 'message/rfc822' || e.contentType === 'message/global';
  const redacted =
    embedded && depth < MAX_DEPTH
      ? redactMessage(decoded, redactor, counter, depth + 1)
      : Buffer.from(redactor.latin1(decoded.toString('latin1'), counter), 'latin1');
  if (counter.n === before) return;
  const eol = body.includes('\r\n') ? '\r\n' : '\n';
  const encoded = cte === 'base64' ? encodeBase64Lines(redacted, eol) : encodeQuotedPrintable(redacted, eol);
  edits.push({ start: e.bodyStart, end: e.end, bytes: Buffer.from(encoded, 'latin1') });
}

/** An RFC 2047 encoded-word (§2), its charset possibly with an RFC 2231 language suffix. */
const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
/** Adjacent encoded-words: the white space between them is not part of the text (RFC 2047 §6.2). */
const ENCODED_RUN = /=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=(?:[ \t]*(?:\r?\n)?[ \t]+=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)*/g;
/** Longest encoded-word written (RFC 2047 §2: 75 characters). */
const MAX_WORD_CHARS = 75;

function decodeWordBytes(enc: string, text: string): Buffer {
  return enc.toUpperCase() === 'B'
    ? Buffer.from(text, 'base64')
    : decodeQuotedPrintable(Buffer.from(text.replace(/_/g, ' '), 'latin1'));
}

/**
 * Decodes each run of adjacent encoded-words together (a name or an address may be split across
 * words); a run holding the identity is replaced by redacted words in its first word's charset.
 */
function redactEncodedWords(headers: string, redactor: Redactor, counter: Counter): string {
  return headers.replace(ENCODED_RUN, (run: string) => {
    const words = [...run.matchAll(ENCODED_WORD)];
    const charset = words[0]?.[1] ?? 'utf-8';
    const text = words.map((w) => decodeCharset(decodeWordBytes(w[2], w[3]), w[1].split('*')[0])).join('');
    const latin = Buffer.from(text, 'utf8').toString('latin1');
    const before = counter.n;
    const redacted = redactor.latin1(latin, counter);
    if (counter.n === before) return run;
    const out = Buffer.from(redacted, 'latin1');
    // Re-encoded in UTF-8 (the text was decoded to Unicode), in words of at most 75 characters.
    const label = /^utf-?8$/i.test(charset.split('*')[0]) ? charset : 'utf-8';
    const pieces: string[] = [];
    const perWord = Math.floor((MAX_WORD_CHARS - label.length - 7) / 4) * 3;
    let i = 0;
    while (i < out.length) {
      let end = Math.min(out.length, i + perWord);
      // Never split a UTF-8 sequence between two words (RFC 2047 §5 (3)).
      while (end < out.length && end > i + 1 && (out[end] & 0xc0) === 0x80) end--;
      pieces.push(`=?${label}?B?${out.subarray(i, end).toString('base64')}?=`);
      i = end;
    }
    return pieces.join(' ') || `=?${label}?B??=`;
  });
}

/** The recipient header fields of a message (a spam's recipient is its reporter). */
const RECIPIENT_FIELDS = [
  'to',
  'cc',
  'bcc',
  'delivered-to',
  'x-original-to',
  'envelope-to',
  'x-envelope-to',
  'x-rcpt-to',
  'original-recipient',
  'x-delivered-to',
  'x-apparently-to',
];
const ADDRESS_IN_TEXT = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** Addresses and display names in the message's own recipient fields. */
export function recipientIdentityOf(raw: Uint8Array): RecipientIdentity {
  const { fields } = parseHeaderBlock(raw);
  const values = RECIPIENT_FIELDS.flatMap((h) => headerValues(fields, h));
  for (const r of headerValues(fields, 'received')) {
    const m = /\bfor\s+<?([^\s<>;]+@[^\s<>;]+)>?/i.exec(r);
    if (m) values.push(m[1]);
  }
  const addresses = new Set<string>();
  const names = new Set<string>();
  for (const v of values) {
    for (const m of v.matchAll(ADDRESS_IN_TEXT)) addresses.add(m[0].toLowerCase());
  }
  for (const h of ['to', 'cc']) {
    for (const v of headerValues(fields, h)) {
      const decoded = decodeHeaderText(v);
      // `"Name" <addr>` or `Name <addr>`, one per mailbox (RFC 5322 §3.4).
      for (const m of decoded.matchAll(/(?:^|,)\s*"?([^",<>]{2,100}?)"?\s*<[^<>]*>/g)) names.add(m[1].trim());
    }
  }
  return { addresses: [...addresses], names: [...names] };
}

/** Addresses in the message's own recipient fields. */
export function recipientAddresses(raw: Uint8Array): string[] {
  return recipientIdentityOf(raw).addresses;
}

function decodeHeaderText(value: string): string {
  const joined = value.replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?)/g, '$1');
  const decoded = joined.replace(ENCODED_WORD, (_m, cs: string, enc: string, text: string) =>
    decodeCharset(decodeWordBytes(enc, text), cs.split('*')[0]),
  );
  // Unencoded 8-bit headers are mostly UTF-8 today (RFC 6532).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: \x00-\xff asks whether all chars are Latin-1
  return /[\x80-\xff]/.test(decoded) && !/[^\x00-\xff]/.test(decoded)
    ? Buffer.from(decoded, 'latin1').toString('utf8')
    : decoded;
}

/** Recipients of the message and of every message embedded in it. */
function allRecipients(buf: Buffer, depth: number): RecipientIdentity {
  const own = recipientIdentityOf(buf);
  const addresses = new Set(own.addresses);
  const names = new Set(own.names);
  const add = (r: RecipientIdentity): void => {
    for (const a of r.addresses) addresses.add(a);
    for (const n of r.names) names.add(n);
  };
  if (depth < MAX_DEPTH) {
    const visit = (e: MimeEntity): void => {
      const embedded = e.contentType === 'message/rfc822' || e.contentType === 'message/global';
      if (embedded && e.children.length > 0)
        add(recipientIdentityOf(buf.subarray(e.children[0].start, e.children[0].end)));
      else if (embedded)
        add(allRecipients(decodeTransfer(buf.subarray(e.bodyStart, e.end), e.transferEncoding), depth + 1));
      for (const c of e.children) visit(c);
    };
    visit(walkMime(buf));
  }
  return { addresses: [...addresses], names: [...names] };
}

function encodeBase64Lines(data: Buffer, eol: string): string {
  const b64 = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join(eol) + (lines.length > 0 ? eol : '');
}

/** RFC 2045 §6.7 quoted-printable, soft line breaks at 76 characters. */
function encodeQuotedPrintable(data: Buffer, eol: string): string {
  const text = data.toString('latin1');
  const lines = text.split(/\r\n|\n/);
  return lines
    .map((line) => {
      let enc = '';
      for (let i = 0; i < line.length; i++) {
        const c = line.charCodeAt(i);
        const trailingSpace = (c === 32 || c === 9) && i === line.length - 1;
        enc +=
          (c >= 33 && c <= 126 && c !== 61) || ((c === 32 || c === 9) && !trailingSpace)
            ? line[i]
            : `=${c.toString(16).toUpperCase().padStart(2, '0')}`;
      }
      const out: string[] = [];
      while (enc.length > 76) {
        let cut = 75;
        // Never split an =XX escape.
        if (enc[cut - 1] === '=') cut -= 1;
        else if (enc[cut - 2] === '=') cut -= 2;
        out.push(`${enc.slice(0, cut)}=`);
        enc = enc.slice(cut);
      }
      out.push(enc);
      return out.join(eol);
    })
    .join(eol);
}
