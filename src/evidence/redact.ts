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
import { createHash } from 'node:crypto';
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
  FULLY_ENCODED_RECIPIENTS,
  identifyingDomain,
  identityForms,
  type IdentityForms,
  mergeIdentities,
  reporterIdentityOf,
  type RecipientIdentity,
  type ReporterIdentity,
} from './redact-identity.ts';
import { compileRedactor, type Counter, type TextRedactor } from './redact-text.ts';
import { containerKind, containerTexts, utf16Views } from './redact-containers.ts';

export type { ReporterIdentity, RecipientIdentity };
export { reporterIdentityOf, mergeIdentities };
export {
  REDACTED_ADDRESS,
  REDACTED_DOMAIN,
  REDACTED_IP,
  REDACTED_NUMBER,
  REDACTED_TEXT,
  base64Fragments,
} from './redact-text.ts';

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
  private readonly forms: IdentityForms;
  private strictText: TextRedactor | null = null;
  constructor(identity: ReporterIdentity, recipients?: RecipientIdentity) {
    this.forms = identityForms(identity, recipients);
    this.text = compileRedactor(this.forms);
  }

  /**
   * Searches a latin1 view of binary data (an image, a compressed stream) for the identity's unmistakable forms
   * only: addresses and their encodings, distinctive local parts, the own domain's hosts, numbers, whole names and
   * names of six letters or more. A name word of three letters turns up in a megabyte of random bytes by chance (a
   * review saw half of the corpus's binary attachments withheld for "Léa"); the returned text is not for writing
   * back (binary data is never rewritten, only withheld).
   */
  strict(latin1: string, counter: Counter): string {
    this.strictText ??= compileRedactor({
      ...this.forms,
      names: this.forms.names
        .filter((n) => n.tokens.length > 1 || n.tokens.join('').length >= 6)
        .map((n) => ({ ...n, parts: false })),
    });
    return this.strictText.redact(latin1, counter);
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
  const found = opts.recipients === false ? { addresses: [], names: [] } : allRecipients(buf, 0);
  const recipients = { ...found, spellings: spellingsIn(buf, [...identity.addresses, ...found.addresses]) };
  const redactor = new Redactor(identity, recipients);
  const counter = { n: 0 };
  const out = redactMessage(buf, redactor, counter, 0);
  return { raw: out, replacements: counter.n };
}

/** Most case spellings of the addresses collected from one message. */
const MAX_SPELLINGS = 16;
/** How much of a message is read for spellings. */
const SPELLING_SCAN_BYTES = 4 * 1024 * 1024;

/**
 * The spellings of `addresses` the message writes in a case of its own (`Lea.Martin@Example.FR`): their hashes are
 * searched as written (a tracking pixel's MD5 of the To address as the spammer's list holds it).
 */
export function spellingsIn(raw: Uint8Array, addresses: readonly string[]): string[] {
  const text = Buffer.from(raw.subarray(0, SPELLING_SCAN_BYTES)).toString('latin1');
  const lower = text.toLowerCase();
  const out = new Set<string>();
  for (const a of new Set(addresses.slice(0, 5 + FULLY_ENCODED_RECIPIENTS).map((x) => x.trim().toLowerCase()))) {
    if (a.length === 0) continue;
    for (let i = lower.indexOf(a); i !== -1 && out.size < MAX_SPELLINGS; i = lower.indexOf(a, i + a.length)) {
      const w = text.slice(i, i + a.length);
      if (w !== a && w !== a.toUpperCase()) out.add(w);
    }
  }
  return [...out];
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

export interface IdentityOptions {
  /**
   * Also the addresses of the reporter's own mail servers, read from the stored trace-back of each report's message
   * ({@link ownMailServerAddresses}): for what leaves with trace text or header lines (packages, digests, outside
   * roles' pages). One more statement per 500 reports whose reporter has a domain of their own.
   */
  mailServers?: boolean;
}

/**
 * The reporter identity of each stored report (its address, account, forwarding wrapper, the
 * account's other identifiers), two statements per 500 reports; absent: no such report.
 */
export async function identitiesByReport(
  db: Kysely<Database>,
  reportIds: readonly string[],
  opts: IdentityOptions = {},
): Promise<Map<string, ReporterIdentity>> {
  const out = new Map<string, ReporterIdentity>();
  for (let i = 0; i < reportIds.length; i += IDENTITY_CHUNK) {
    const rows = await db
      .selectFrom('reports as r')
      .leftJoin('users as u', 'u.id', 'r.reporter_user_id')
      .select([
        'r.id',
        'r.reporter_address',
        'r.reporter_user_id',
        'r.context',
        'r.message_sha256',
        'u.email',
        'u.name',
      ])
      .where('r.id', 'in', reportIds.slice(i, i + IDENTITY_CHUNK))
      .execute();
    const accounts = await accountIdentifiers(db, [
      ...new Set(rows.map((r) => r.reporter_user_id).filter((u): u is string => u !== null)),
    ]);
    const chunk = new Map<string, { identity: ReporterIdentity; sha: string }>();
    for (const r of rows) {
      const own = reporterIdentityOf(r, r.email ? { email: r.email, name: r.name } : null);
      const more = r.reporter_user_id ? accounts.get(r.reporter_user_id) : undefined;
      chunk.set(r.id, { identity: more ? mergeIdentities([own, more]) : own, sha: r.message_sha256 });
    }
    if (opts.mailServers) await addMailServers(db, chunk);
    for (const [id, c] of chunk) out.set(id, c.identity);
  }
  return out;
}

/** Adds to each identity whose reporter has a domain of their own the addresses of that domain's mail servers. */
async function addMailServers(
  db: Kysely<Database>,
  chunk: Map<string, { identity: ReporterIdentity; sha: string }>,
): Promise<void> {
  const domainsOf = new Map<string, string[]>();
  for (const [id, c] of chunk) {
    const domains = [...new Set(c.identity.addresses.map(identifyingDomain).filter((d): d is string => d !== null))];
    if (domains.length > 0) domainsOf.set(id, domains);
  }
  if (domainsOf.size === 0) return;
  const servers = await ownMailServerAddresses(
    db,
    [...domainsOf.keys()].map((id) => chunk.get(id)?.sha ?? ''),
  );
  for (const [id, domains] of domainsOf) {
    const c = chunk.get(id);
    if (c === undefined) continue;
    const inDomain = (host: string | null): boolean =>
      host !== null && domains.some((d) => host.toLowerCase() === d || host.toLowerCase().endsWith(`.${d}`));
    const ips = (servers.get(c.sha) ?? []).filter((s) => s.names.some(inDomain)).map((s) => s.ip);
    if (ips.length > 0)
      c.identity = { ...c.identity, hostAddresses: [...new Set([...(c.identity.hostAddresses ?? []), ...ips])] };
  }
}

/**
 * The mail servers the stored trace-back of each message believed on the receiving side, with the names that say
 * whose they are: the client of every hop above the origin (the walk believed it; its reverse name unless the
 * receiver marked it unverified), and the receiver of every believed hop when it wrote its own address
 * (`by mx1.example.org (203.0.113.5)`). The latest analysis of each message; read as plain JSON (the evidence area
 * does not depend on the analysis area's code).
 */
export async function ownMailServerAddresses(
  db: Kysely<Database>,
  sha256s: readonly string[],
): Promise<Map<string, { ip: string; names: (string | null)[] }[]>> {
  const out = new Map<string, { ip: string; names: (string | null)[] }[]>();
  const latest = new Map<string, { at: string; json: string }>();
  const wanted = [...new Set(sha256s)].filter((s) => s.length > 0);
  for (let i = 0; i < wanted.length; i += IDENTITY_CHUNK) {
    const rows = await db
      .selectFrom('analyses')
      .select(['message_sha256', 'analysed_at', 'json'])
      .where('message_sha256', 'in', wanted.slice(i, i + IDENTITY_CHUNK))
      .execute();
    for (const r of rows) {
      const seen = latest.get(r.message_sha256);
      if (seen === undefined || r.analysed_at > seen.at)
        latest.set(r.message_sha256, { at: r.analysed_at, json: r.json });
    }
  }
  for (const [sha, { json }] of latest) out.set(sha, serversOfTrace(json));
  return out;
}

interface StoredHop {
  index?: unknown;
  raw?: unknown;
  fromIp?: unknown;
  fromRdns?: unknown;
  byHost?: unknown;
  trusted?: unknown;
  notes?: unknown;
}

function serversOfTrace(json: string): { ip: string; names: (string | null)[] }[] {
  let tb: { hops?: StoredHop[]; origin?: { hopIndex?: unknown } | null } | undefined;
  try {
    tb = (JSON.parse(json) as { traceback?: typeof tb }).traceback;
  } catch {
    return [];
  }
  if (!tb || !Array.isArray(tb.hops)) return [];
  const originAt = typeof tb.origin?.hopIndex === 'number' ? tb.origin.hopIndex : Number.POSITIVE_INFINITY;
  const out: { ip: string; names: (string | null)[] }[] = [];
  const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
  for (const h of tb.hops) {
    if (h.trusted !== true || typeof h.index !== 'number') continue;
    const byHost = str(h.byHost);
    const raw = str(h.raw);
    // The receiver's own address, written by itself next to its name.
    if (byHost !== null && raw !== null) {
      const at = raw.toLowerCase().indexOf(`by ${byHost.toLowerCase()}`);
      const m =
        at < 0 ? null : /^\s*\(?\[?(?:IPv6:)?([0-9A-Fa-f:.]{7,45})\]?\)?/.exec(raw.slice(at + 3 + byHost.length));
      if (m && /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)$/.test(m[1]))
        out.push({ ip: m[1], names: [byHost] });
    }
    const ip = str(h.fromIp);
    if (h.index >= originAt || ip === null) continue;
    const notes = Array.isArray(h.notes) ? h.notes : [];
    const rdns = notes.includes('rdns-may-be-forged') || notes.includes('rdns-unverified') ? null : str(h.fromRdns);
    out.push({ ip, names: [rdns] });
  }
  return out;
}

/** The reporter identity of one stored report (no identifiers when there is no such report). */
export async function identityOfReport(
  db: Kysely<Database>,
  reportId: string,
  opts: IdentityOptions = {},
): Promise<ReporterIdentity> {
  return (await identitiesByReport(db, [reportId], opts)).get(reportId) ?? { addresses: [], names: [], numbers: [] };
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
  const identity = await identityOfReport(db, reportId, { mailServers: true });
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
  // A last pass over what no edit covers: 7bit/8bit bodies, preambles, malformed structure. Not over encoded bodies
  // already searched decoded (their base64 spells a name word by chance: a review saw `/ZOe/` inside a picture's
  // base64 become `/[redacted]/`), nor over what an edit wrote.
  const last = (from: number, to: number): Buffer =>
    to <= from
      ? Buffer.alloc(0)
      : Buffer.from(redactor.latin1(buf.subarray(from, to).toString('latin1'), counter), 'latin1');
  const pieces: Buffer[] = [];
  let pos = 0;
  for (const e of edits) {
    if (e.start < pos) continue;
    pieces.push(last(pos, e.start), e.bytes);
    pos = e.end;
  }
  pieces.push(last(pos, buf.length));
  return Buffer.concat(pieces);
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
  const headerEdit = (): void => {
    if (redactedHeaders !== headers)
      edits.push({ start: e.start, end: headerEnd, bytes: Buffer.from(redactedHeaders, 'latin1') });
  };
  if (e.children.length === 0) {
    const verdict = binaryVerdict(buf, e, redactor, counter);
    if (verdict !== null) {
      if (verdict.withhold === null) {
        headerEdit();
        // Binary data is never rewritten: the body stays byte for byte, out of the last pass too.
        edits.push({ start: e.bodyStart, end: e.end, bytes: Buffer.from(buf.subarray(e.bodyStart, e.end)) });
      } else withhold(buf, e, headerEnd, redactedHeaders, verdict.withhold, edits);
      return;
    }
  }
  if (e.children.length === 0 && redactInCharset(buf, e, headerEnd, redactedHeaders, redactor, counter, edits)) return;
  headerEdit();
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
  // Searched decoded: the encoded body is kept as it is when nothing was found (the last pass leaves it alone).
  if (counter.n === before) {
    edits.push({ start: e.bodyStart, end: e.end, bytes: Buffer.from(body) });
    return;
  }
  const eol = body.includes('\r\n') ? '\r\n' : '\n';
  const encoded = cte === 'base64' ? encodeBase64Lines(redacted, eol) : encodeQuotedPrintable(redacted, eol);
  edits.push({ start: e.bodyStart, end: e.end, bytes: Buffer.from(encoded, 'latin1') });
}

/** Charsets whose bytes the latin1 search already reads as the text. */
const SEARCHED_AS_BYTES = new Set([
  '',
  'us-ascii',
  'ascii',
  'utf-8',
  'utf8',
  // Latin-1 (and Windows' superset, whose extra letters no Latin-1 name needs): the byte search reads each name's
  // letters in their Latin-1 byte too.
  'iso-8859-1',
  'iso8859-1',
  'latin1',
  'windows-1252',
  'cp1252',
]);
/** Largest text part decoded from its charset to be searched (larger ones: the byte search only). */
const MAX_CHARSET_PART = 32 * 1024 * 1024;

/**
 * The charset a leaf text part must be decoded from before it is searched, or null: text parts in legacy charsets
 * (windows-1251, KOI8-R, ISO-2022-JP, Shift_JIS, GB18030, Big5, ISO-8859-*) and UTF-16, whose bytes do not spell a
 * name (or, in UTF-16, an address) as the byte search looks for it. A body that starts with a UTF-16 byte-order
 * mark is UTF-16 whatever its part says (a `.txt` attachment from Windows).
 */
function partCharset(e: MimeEntity, body: Buffer): string | null {
  const head = leadingBytes(body, e.transferEncoding);
  if (head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)))
    return head[0] === 0xff ? 'utf-16le' : 'utf-16be';
  if (!e.contentType.startsWith('text/')) return null;
  const label = (e.params.charset ?? '').trim().toLowerCase().replace(/^"|"$/g, '');
  const cs = CHARSET_ALIASES[label] ?? CHARSET_ALIASES[label.replace(/_/g, '-')] ?? label.replace(/_/g, '-');
  if (SEARCHED_AS_BYTES.has(cs)) return null;
  // UTF-16 without a byte-order mark is big-endian (RFC 2781 §4.3), unless its zeros say otherwise.
  if (cs === 'utf-16') return utf16Order(body, e.transferEncoding);
  try {
    new TextDecoder(cs);
    return cs;
  } catch {
    return null;
  }
}

/**
 * Labels mail clients write that the WHATWG Encoding Standard does not know, as the decoders mail readers use
 * (iconv) read them: a review saw `cp932` and `shiftjis` parts leave Japanese names unread.
 */
const CHARSET_ALIASES: Record<string, string> = {
  cp932: 'shift_jis',
  ms932: 'shift_jis',
  shiftjis: 'shift_jis',
  'shift-jis': 'shift_jis',
  'x-sjis': 'shift_jis',
  'windows-31j': 'shift_jis',
  cp936: 'gbk',
  ms936: 'gbk',
  cp949: 'euc-kr',
  'ks-c-5601': 'euc-kr',
  cp950: 'big5',
  cp1250: 'windows-1250',
  cp1251: 'windows-1251',
  cp1253: 'windows-1253',
  cp1254: 'windows-1254',
  cp1255: 'windows-1255',
  cp1256: 'windows-1256',
  cp1257: 'windows-1257',
  cp1258: 'windows-1258',
  cp866: 'ibm866',
  'utf-16': 'utf-16',
};

/** The byte order of UTF-16 without a byte-order mark: big-endian unless zeros stand at odd offsets more often. */
function utf16Order(body: Buffer, cte: string): string {
  const head = leadingBytes(body, cte, 512);
  let even = 0;
  let odd = 0;
  for (let i = 0; i + 1 < head.length; i += 2) {
    if (head[i] === 0) even++;
    if (head[i + 1] === 0) odd++;
  }
  return odd > even ? 'utf-16le' : 'utf-16be';
}

/** Largest attachment searched inside (larger ones: the byte search only). */
const MAX_CONTAINER_PART = 32 * 1024 * 1024;
/** How much of binary data is sampled to tell it from text. */
const TEXT_SAMPLE = 64 * 1024;

/** Text, not binary data: almost no control characters (text has none but tab and line ends; random bytes 11 %). */
function isTexty(b: Buffer): boolean {
  const n = Math.min(b.length, TEXT_SAMPLE);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) control++;
  }
  return control <= n * 0.02;
}

/** A text with the runs of control characters in it, and eight characters on each side, made spaces. */
function textOnly(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
  return s.replace(/[^\n]{0,8}[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+[^\n]{0,8}/g, ' ');
}

/** Why a part is withheld: the file, and whether its inside named the reporter or could not be searched whole. */
interface Withholding {
  bytes: Buffer;
  why: 'names' | 'unsearched';
}

/**
 * What becomes of a leaf that is binary data (not text/*, not a message): null when it is text after all (a `.txt`
 * sent as application/octet-stream: redacted in place as text); `{ withhold: null }` when nothing in it names the
 * reporter (kept byte for byte: binary data is never rewritten); else the part to withhold. A container (a PDF, a
 * ZIP, an Office document, TNEF, OLE: {@link containerTexts}) is searched inside — its text with every form, its
 * binary streams with the unmistakable ones ({@link Redactor.strict}) — and withheld too when it could not be
 * searched whole; other binary data is searched with the unmistakable forms (an address in an image's metadata).
 */
function binaryVerdict(
  buf: Buffer,
  e: MimeEntity,
  redactor: Redactor,
  counter: Counter,
): { withhold: Withholding | null } | null {
  if (e.contentType.startsWith('message/') || e.contentType.startsWith('multipart/')) return null;
  // A text part is text, unless it is a container under a wrong type (a PDF sent as text/plain; name=x.pdf).
  const lead = leadingBytes(buf.subarray(e.bodyStart, e.end), e.transferEncoding, 1024);
  if (e.contentType.startsWith('text/') && containerKind(lead) === null) return null;
  if (e.end - e.bodyStart > MAX_CONTAINER_PART) return null;
  const body = buf.subarray(e.bodyStart, e.end);
  const cte = e.transferEncoding;
  const decoded = cte === 'base64' || cte === 'quoted-printable' ? decodeTransfer(Buffer.from(body), cte) : body;
  const kind = containerKind(decoded);
  const bom =
    decoded.length >= 2 &&
    ((decoded[0] === 0xff && decoded[1] === 0xfe) || (decoded[0] === 0xfe && decoded[1] === 0xff));
  // Text after all (a `.txt` or a `.csv` sent as application/octet-stream, UTF-16 with its byte-order mark): the
  // text paths redact it in place.
  if (kind === null && (bom || isTexty(decoded))) return null;
  const found: Counter = { n: 0 };
  let complete = true;
  if (kind !== null) {
    const inside = containerTexts(decoded);
    complete = inside.complete;
    for (const { text, raw } of inside.texts) {
      redactor.strict(text, found);
      // Text a reader sees, with every form; binary bytes inside it (an inline image in a content stream) blanked
      // with their neighbours, where a name word would turn up by chance.
      if (!raw && isTexty(Buffer.from(text.slice(0, TEXT_SAMPLE), 'latin1'))) redactor.latin1(textOnly(text), found);
      if (found.n > 0) break;
    }
  } else {
    // Binary data, and its UTF-16 readings (a Windows text file without a byte-order mark).
    for (const text of [decoded.toString('latin1'), ...utf16Views(decoded)]) {
      redactor.strict(text, found);
      if (found.n > 0) break;
    }
  }
  if (found.n === 0 && complete) return { withhold: null };
  counter.n += Math.max(1, found.n);
  return { withhold: { bytes: decoded, why: found.n > 0 ? 'names' : 'unsearched' } };
}

/**
 * Withholds a part: its header fields are kept (redacted) but for its content fields, which say it is now a short
 * text naming the file's type, size and SHA-256; at the top of a message (a message whose body is a PDF) the message
 * keeps its own fields. The original stays in the evidence, for an authority entitled to it.
 */
function withhold(
  buf: Buffer,
  e: MimeEntity,
  headerEnd: number,
  headers: string,
  w: Withholding,
  edits: { start: number; end: number; bytes: Buffer }[],
): void {
  const eol = headers.includes('\r\n') || buf.subarray(e.bodyStart, e.end).includes('\r\n') ? '\r\n' : '\n';
  const name = (e.dispositionParams.filename ?? e.params.name ?? '(no name)')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/"/g, "'")
    .slice(0, 200);
  const sha256 = createHash('sha256').update(w.bytes).digest('hex');
  const kept = headers
    .replace(/^content-(?:type|transfer-encoding|disposition|length):.*(?:\r?\n[ \t].*)*\r?\n?/gim, '')
    .replace(/\r?\n?$/, '');
  const fields = [
    ...(kept.length > 0 ? [kept] : []),
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Transfer-Encoding: 7bit',
    ...(e.start > 0 || e.disposition !== null ? ['Content-Disposition: attachment; filename="withheld.txt"'] : []),
    `X-Spamdesk-Withheld: type=${e.contentType}; size=${w.bytes.length}; sha256=${sha256}`,
  ];
  const reason =
    w.why === 'names'
      ? 'names the reporter inside its content, which cannot be redacted without changing the file.'
      : 'could not be searched whole for the reporter (an archive too large, too deep or compressed in a way not ' +
        'read here).';
  edits.push({ start: e.start, end: headerEnd, bytes: Buffer.from(`${fields.join(eol)}${eol}`, 'latin1') });
  const note = [
    `Attachment withheld from this redacted copy: "${name}" (${e.contentType}, ${w.bytes.length} bytes,`,
    `SHA-256 ${sha256})`,
    reason,
    'The original is kept as evidence.',
    '',
  ].join(eol);
  edits.push({ start: e.bodyStart, end: e.end, bytes: Buffer.from(note, 'latin1') });
}

/** The first bytes of a part's decoded body (enough to see a byte-order mark). */
function leadingBytes(body: Buffer, cte: string, n = 2): Buffer {
  if (cte === 'base64') {
    const chars = Math.ceil(n / 3) * 4;
    const head = body
      .subarray(0, chars + Math.ceil(chars / 38) * 2 + 64)
      .toString('latin1')
      .replace(/[^A-Za-z0-9+/]/g, '');
    return Buffer.from(head.slice(0, chars), 'base64').subarray(0, n);
  }
  if (cte === 'quoted-printable') return decodeQuotedPrintable(body.subarray(0, n * 3 + 8)).subarray(0, n);
  return body.subarray(0, n);
}

/**
 * Redacts a leaf part written in a charset the byte search cannot read ({@link partCharset}): the body is decoded to
 * Unicode, searched as UTF-8 and, when anything was found, written back in UTF-8 and base64, its Content-Type charset
 * and Content-Transfer-Encoding rewritten to say so (the redacted copy is a copy: its bytes need not be the
 * original's).
 * Returns true when the part was searched so (its edits pushed, or kept as it is when nothing was found); false leaves
 * it to the other passes.
 */
function redactInCharset(
  buf: Buffer,
  e: MimeEntity,
  headerEnd: number,
  headers: string,
  redactor: Redactor,
  counter: Counter,
  edits: { start: number; end: number; bytes: Buffer }[],
): boolean {
  if (e.end - e.bodyStart > MAX_CHARSET_PART) return false;
  const cte = e.transferEncoding;
  const body = buf.subarray(e.bodyStart, e.end);
  const charset = partCharset(e, body);
  if (charset === null) return false;
  const decoded =
    cte === 'base64' || cte === 'quoted-printable' ? decodeTransfer(Buffer.from(body), cte) : Buffer.from(body);
  const text = Buffer.from(decodeCharset(decoded, charset).replace(/^\ufeff/, ''), 'utf8').toString('latin1');
  const sub: Counter = { n: 0 };
  const redacted = redactor.latin1(text, sub);
  if (sub.n === 0) {
    // Searched as the reader reads it and nothing found: the part stays as it is, out of the last pass too, which
    // would read its legacy bytes as Latin-1 and could find a name word in them by chance.
    edits.push({ start: e.start, end: headerEnd, bytes: Buffer.from(headers, 'latin1') });
    edits.push({ start: e.bodyStart, end: e.end, bytes: Buffer.from(body) });
    return true;
  }
  counter.n += sub.n;
  const eol = body.includes('\r\n') || headers.includes('\r\n') ? '\r\n' : '\n';
  edits.push({ start: e.start, end: headerEnd, bytes: Buffer.from(inUtf8Base64(headers, eol), 'latin1') });
  edits.push({
    start: e.bodyStart,
    end: e.end,
    bytes: Buffer.from(encodeBase64Lines(Buffer.from(redacted, 'latin1'), eol), 'latin1'),
  });
  return true;
}

/** A part's header block rewritten to say its body is now UTF-8 in base64 (charset and transfer encoding). */
function inUtf8Base64(headers: string, eol: string): string {
  let out = headers.replace(/^(content-type:[^\n]*(?:\n[ \t][^\n]*)*)/im, (field) =>
    /charset\s*=/i.test(field)
      ? field.replace(/(charset\s*=\s*)(?:"[^"]*"|[^;\s]+)/i, '$1utf-8')
      : field.replace(/(\r?)$/, '; charset=utf-8$1'),
  );
  if (!/^content-type:/im.test(out)) {
    // After an mbox envelope line (`From sender date`), which is no header field.
    const envelope = /^From [^\n]*\n/.exec(out)?.[0] ?? '';
    out = `${envelope}Content-Type: text/plain; charset=utf-8${eol}${out.slice(envelope.length)}`;
  }
  if (/^content-transfer-encoding:/im.test(out))
    out = out.replace(/^(content-transfer-encoding:)[^\n]*?(\r?)$/im, '$1 base64$2');
  else out = out.replace(/(\r?\n)?$/, (nl) => `${nl || eol}Content-Transfer-Encoding: base64${eol}`);
  return out;
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
  // Where a message was forwarded or resent to, by the recipient's own rules (a review saw each of these name the
  // reporter's mailbox in copies that left): Exchange's loop guards, Dovecot/Postfix's original recipient, RFC 5322
  // §3.6.6 resent blocks, Sieve and Google forwarding.
  'resent-to',
  'resent-cc',
  'resent-bcc',
  'x-original-recipient',
  'x-original-delivered-to',
  'x-ms-exchange-forwardingloop',
  'x-ms-exchange-inbox-rules-loop',
  'x-forwarded-to',
  // Gmail's forwarding: the alias a message was sent to, and the mailboxes it was forwarded for (a Google Group's
  // address there too: over-redaction, the safe error).
  'x-gm-original-to',
  'x-forwarded-for',
  'x-resolved-to',
  'x-sieve-redirected-from',
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
