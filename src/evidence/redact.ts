/**
 * The one redaction function for everything that leaves the platform (ISP alerts, sender
 * feedback, referrals, feeds, partner exchanges): it removes the reporter's identity from a copy
 * of a message, SpamCop-style, and never touches stored evidence (it returns a new buffer).
 *
 * What counts as the reporter's identity: their addresses (and, when distinctive, the local part
 * alone), their name, their phone numbers, and the recipient fields of the message itself (To, Cc,
 * Delivered-To, X-Original-To, Received `for <…>`): a spam's recipient is its reporter.
 * Where it is found: headers (also inside RFC 2047 encoded-words and RFC 2231 parameters), bodies
 * (also inside base64 and quoted-printable parts, which are decoded, redacted and re-encoded,
 * and in embedded messages at any depth), URL-encoded, HTML-entity-encoded, in any letter case,
 * as base64 fragments inside links, and as the MD5/SHA-1/SHA-256 of the address that tracking links carry.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { getMessageRaw } from './store.ts';
import { parseSmsEvidence, serializeSmsEvidence } from './sms-format.ts';
import {
  decodeQuotedPrintable,
  decodeTransfer,
  headerValues,
  parseHeaderBlock,
  walkMime,
  type MimeEntity,
} from '../intake/arf/mime-walk.ts';

/** Who must not be identifiable in what leaves. */
export interface ReporterIdentity {
  addresses: string[];
  names: string[];
  /** Phone numbers, any format (E.164 preferred). */
  numbers: string[];
}

export interface RedactOptions {
  /** Also redact the addresses in the message's own recipient fields (default true). */
  recipients?: boolean;
}

export interface RedactionResult {
  /** The redacted copy. */
  raw: Buffer;
  /** How many occurrences were replaced. */
  replacements: number;
}

/** What replaces an address (a syntactically valid address so parsers keep working). */
export const REDACTED_ADDRESS = 'x@redacted.invalid';
export const REDACTED_TEXT = '[redacted]';
export const REDACTED_NUMBER = '[redacted-number]';
/** Replaces a base64 fragment: base64 characters only, so the surrounding encoding survives. */
const REDACTED_B64 = 'REDACTED';

/** Local parts too common to redact on their own (they would blank out ordinary words). */
const COMMON_LOCAL_PARTS = new Set([
  'info', 'admin', 'contact', 'mail', 'email', 'user', 'test', 'hello', 'support', 'office', 'sales', 'team', 'abuse',
  'postmaster', 'webmaster', 'noreply', 'service', 'news', 'home', 'paypal', 'bank', 'account', 'spam', 'report',
]);
/** Shortest local part redacted on its own. */
const MIN_LOCAL_PART = 4;
/** Recipients whose base64 and hashed forms are searched too (beyond: the address itself only). */
const FULLY_ENCODED_RECIPIENTS = 5;
/** Most addresses redacted from one message (a spam To: list can hold thousands). */
const MAX_ADDRESSES = 1000;
/** A text holding none of these has no URL-encoded or HTML-entity-encoded address in it. */
const ENCODED_MARKERS = ['%', '&#', '&commat;', '&period;'];
/** Deepest embedded encoded message we decode and redact. */
const MAX_DEPTH = 8;

interface Matcher {
  /** A pattern, or (with `literal`) nothing: literals are replaced by plain search. */
  re?: RegExp;
  /** A lower-case string replaced wherever it occurs, in any letter case. */
  literal?: string;
  /** Further lower-case literals of which the text must hold one for the pattern to run. */
  requires?: string[];
  replacement: string;
  /**
   * Lower-case literals of which every match contains at least one: a text holding none of them
   * is skipped without running the pattern (most bodies hold no trace of the reporter).
   */
  anchors: string[];
  /** For phone numbers: digits every match contains once separators are removed. */
  digits?: string;
}

/**
 * Matchers merged into one alternation per flag set, so a text is scanned twice rather than
 * once per pattern. Earlier alternatives win at a position: addresses before local parts. Only
 * the matchers whose anchors occur in a text take part; merged patterns are cached per subset.
 */
interface CompiledMatchers {
  all: Matcher[];
  cache: Map<string, { re: RegExp; replacements: string[] }[]>;
}

function compile(matchers: Matcher[]): CompiledMatchers {
  return { all: matchers, cache: new Map() };
}

function passesFor(active: Matcher[]): { re: RegExp; replacements: string[] }[] {
  const passes: { re: RegExp; replacements: string[] }[] = [];
  for (const flags of ['gi', 'g']) {
    const group = active.filter((m) => m.re?.flags === flags);
    if (group.length === 0) continue;
    // Every source uses only non-capturing groups, so capture i is matcher i.
    passes.push({ re: new RegExp(group.map((m) => `(${m.re?.source ?? '(?!)'})`).join('|'), flags), replacements: group.map((m) => m.replacement) });
  }
  return passes;
}

/** The longest run of letters and digits of `s`, lower-cased ('' when none: always active). */
function anchorOf(s: string): string {
  return (s.toLowerCase().match(/[a-z0-9]+/g) ?? ['']).reduce((a, b) => (b.length > a.length ? b : a), '');
}

/**
 * Returns a copy of `raw` with the reporter's identity removed. `raw` itself is never modified.
 */
export function redactReporter(raw: Uint8Array, identity: ReporterIdentity, opts: RedactOptions = {}): RedactionResult {
  const matchers = compile(buildMatchers(identity, opts.recipients === false ? [] : allRecipientAddresses(Buffer.from(raw), 0)));
  const counter = { n: 0 };
  const out = redactMessage(Buffer.from(raw), matchers, counter, 0);
  return { raw: out, replacements: counter.n };
}

/** Redacts a text artefact (JSON, CSV, a note) with the same rules. */
export function redactText(text: string, identity: ReporterIdentity): string {
  const latin = Buffer.from(text, 'utf8').toString('latin1');
  return Buffer.from(applyMatchers(latin, compile(buildMatchers(identity)), { n: 0 }), 'latin1').toString('utf8');
}

/**
 * The redacted copy of a stored report's evidence, ready to leave the platform: loads the report,
 * its reporter's account and the evidence, and redacts the reporter's identity (for SMS evidence:
 * from the text, the canonical JSON kept). Null when the report or its evidence does not exist.
 * The stored evidence is read, never written.
 */
export async function redactedEvidenceOf(db: Kysely<Database>, reportId: string): Promise<(RedactionResult & { identity: ReporterIdentity; kind: 'email' | 'sms' }) | null> {
  const report = await db.selectFrom('reports').select(['message_sha256', 'reporter_address', 'reporter_user_id', 'context']).where('id', '=', reportId).executeTakeFirst();
  if (!report) return null;
  const user = report.reporter_user_id ? await db.selectFrom('users').select(['email', 'name']).where('id', '=', report.reporter_user_id).executeTakeFirst() : null;
  const raw = await getMessageRaw(db, report.message_sha256);
  if (!raw) return null;
  const identity = reporterIdentityOf(report, user);
  const sms = parseSmsEvidence(raw);
  if (sms) {
    const text = redactText(sms.text, identity);
    return { raw: serializeSmsEvidence({ sender: sms.sender, text, receivedAt: sms.receivedAt }), replacements: text === sms.text ? 0 : 1, identity, kind: 'sms' };
  }
  return { ...redactReporter(raw, identity), identity, kind: 'email' };
}

/**
 * The reporter identity of a stored report: its reporter address, the account's address and
 * name, and the forwarding wrapper's display name kept in the report context.
 */
export function reporterIdentityOf(
  report: { reporter_address: string | null; context: string | null },
  user?: { email: string; name: string | null } | null,
): ReporterIdentity {
  const id: ReporterIdentity = { addresses: [], names: [], numbers: [] };
  const addr = report.reporter_address;
  if (addr) (addr.includes('@') ? id.addresses : id.numbers).push(addr);
  if (user) {
    id.addresses.push(user.email);
    if (user.name) id.names.push(user.name);
  }
  try {
    const ctx: unknown = report.context ? JSON.parse(report.context) : null;
    if (ctx && typeof ctx === 'object') {
      const wrapper = 'wrapper' in ctx ? ctx.wrapper : null;
      const from = wrapper && typeof wrapper === 'object' && 'from' in wrapper && typeof wrapper.from === 'string' ? wrapper.from : null;
      const name = from ? /^\s*"?([^"<]+?)"?\s*</.exec(from)?.[1] : null;
      if (name) id.names.push(name);
      const rn = 'reporterNumber' in ctx && typeof ctx.reporterNumber === 'string' ? ctx.reporterNumber : null;
      if (rn) id.numbers.push(rn);
    }
  } catch {
    // A context that is not JSON holds no identity we can use.
  }
  return id;
}

function redactMessage(buf: Buffer, matchers: CompiledMatchers, counter: { n: number }, depth: number): Buffer {
  const root = walkMime(buf);
  const edits: { start: number; end: number; bytes: Buffer }[] = [];
  collectEdits(buf, root, matchers, counter, depth, edits);
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
  return Buffer.from(applyMatchers(joined, matchers, counter), 'latin1');
}

function collectEdits(buf: Buffer, e: MimeEntity, matchers: CompiledMatchers, counter: { n: number }, depth: number, edits: { start: number; end: number; bytes: Buffer }[]): void {
  const headerEnd = parseHeaderBlock(buf, e.start, e.end).headerEnd;
  const headers = buf.subarray(e.start, headerEnd).toString('latin1');
  const redactedHeaders = applyMatchers(redactEncodedWords(headers, matchers, counter), matchers, counter);
  if (redactedHeaders !== headers) edits.push({ start: e.start, end: headerEnd, bytes: Buffer.from(redactedHeaders, 'latin1') });
  if (e.children.length > 0) {
    for (const c of e.children) collectEdits(buf, c, matchers, counter, depth, edits);
    return;
  }
  const cte = e.transferEncoding;
  if (cte !== 'base64' && cte !== 'quoted-printable') return;
  const body = buf.subarray(e.bodyStart, e.end);
  const decoded = decodeTransfer(Buffer.from(body), cte);
  const before = counter.n;
  const embedded = e.contentType === 'message/rfc822' || e.contentType === 'message/global';
  const redacted = embedded && depth < MAX_DEPTH
    ? redactMessage(decoded, matchers, counter, depth + 1)
    : Buffer.from(applyMatchers(decoded.toString('latin1'), matchers, counter), 'latin1');
  if (counter.n === before) return;
  const eol = body.includes('\r\n') ? '\r\n' : '\n';
  const encoded = cte === 'base64' ? encodeBase64Lines(redacted, eol) : encodeQuotedPrintable(redacted, eol);
  edits.push({ start: e.bodyStart, end: e.end, bytes: Buffer.from(encoded, 'latin1') });
}

/** Decodes each RFC 2047 encoded-word; one holding the identity is replaced by a redacted one. */
function redactEncodedWords(headers: string, matchers: CompiledMatchers, counter: { n: number }): string {
  return headers.replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (word, charset: string, enc: string, text: string) => {
    const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQuotedPrintable(Buffer.from(text.replace(/_/g, ' '), 'latin1'));
    const latin = bytes.toString('latin1');
    const redacted = applyMatchers(latin, matchers, counter);
    if (redacted === latin) return word;
    return `=?${charset}?B?${Buffer.from(redacted, 'latin1').toString('base64')}?=`;
  });
}

function applyMatchers(text: string, matchers: CompiledMatchers, counter: { n: number }): string {
  let out = text;
  let lower = text.toLowerCase();
  // Plain occurrences first, by search: far cheaper than a pattern per address on long To: lists.
  for (const m of matchers.all) {
    if (m.literal === undefined || m.literal === '' || !lower.includes(m.literal)) continue;
    const pieces: string[] = [];
    let pos = 0;
    for (let i = lower.indexOf(m.literal); i !== -1; i = lower.indexOf(m.literal, pos)) {
      pieces.push(out.slice(pos, i), m.replacement);
      pos = i + m.literal.length;
      counter.n++;
    }
    pieces.push(out.slice(pos));
    out = pieces.join('');
    lower = out.toLowerCase();
  }
  let digits: string | null = null;
  const active: number[] = [];
  matchers.all.forEach((m, i) => {
    if (!m.re) return;
    if (m.requires && !m.requires.some((r) => lower.includes(r))) return;
    if (m.digits !== undefined) {
      digits ??= out.replace(/[\s.\-()/]/g, '');
      if (digits.includes(m.digits)) active.push(i);
    } else if (m.anchors.some((a) => lower.includes(a))) active.push(i);
  });
  if (active.length === 0) return out;
  const key = active.join(',');
  let passes = matchers.cache.get(key);
  if (!passes) {
    passes = passesFor(active.map((i) => matchers.all[i]));
    matchers.cache.set(key, passes);
  }
  for (const pass of passes) {
    out = out.replace(pass.re, (...args: unknown[]) => {
      counter.n++;
      const idx = args.findIndex((a, i) => i > 0 && i <= pass.replacements.length && a !== undefined);
      return pass.replacements[idx - 1] ?? REDACTED_TEXT;
    });
  }
  return out;
}

/** Addresses in the message's own recipient fields (the spam's recipient is the reporter). */
export function recipientAddresses(raw: Uint8Array): string[] {
  const { fields } = parseHeaderBlock(raw);
  const values = ['to', 'cc', 'delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to', 'x-rcpt-to', 'original-recipient'].flatMap((h) => headerValues(fields, h));
  for (const r of headerValues(fields, 'received')) {
    const m = /\bfor\s+<?([^\s<>;]+@[^\s<>;]+)>?/i.exec(r);
    if (m) values.push(m[1]);
  }
  const out = new Set<string>();
  for (const v of values) for (const m of v.matchAll(/[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g)) out.add(m[0].toLowerCase());
  return [...out];
}

/** Recipient addresses of the message and of every message embedded in it. */
function allRecipientAddresses(buf: Buffer, depth: number): string[] {
  const out = new Set(recipientAddresses(buf));
  if (depth >= MAX_DEPTH) return [...out];
  const visit = (e: MimeEntity): void => {
    const embedded = e.contentType === 'message/rfc822' || e.contentType === 'message/global';
    if (embedded && e.children.length > 0) {
      for (const a of recipientAddresses(buf.subarray(e.children[0].start, e.children[0].end))) out.add(a);
    } else if (embedded) {
      for (const a of allRecipientAddresses(decodeTransfer(buf.subarray(e.bodyStart, e.end), e.transferEncoding), depth + 1)) out.add(a);
    }
    for (const c of e.children) visit(c);
  };
  visit(walkMime(buf));
  return [...out];
}

/** Matchers, longest patterns first so that an address goes before its local part. */
function buildMatchers(identity: ReporterIdentity, recipients: string[] = []): Matcher[] {
  const out: Matcher[] = [];
  const own = [...new Set(identity.addresses.map((a) => a.trim()).filter((a) => a.includes('@') && a.length >= 3))];
  const addresses = [...new Set([...own, ...recipients])].slice(0, MAX_ADDRESSES);
  for (const [i, addr] of addresses.entries()) {
    const plain = Buffer.from(addr, 'utf8').toString('latin1').toLowerCase();
    out.push({ literal: plain, replacement: REDACTED_ADDRESS, anchors: [plain] });
    // Encoded forms (`%40`, `&#64;`…) only where the text holds such escapes at all.
    out.push({ re: new RegExp(encodedCharsPattern(addr), 'gi'), replacement: REDACTED_ADDRESS, anchors: [anchorOf(addr)], requires: ENCODED_MARKERS });
    // A spam sent to a long list: its encoded forms are searched for the first few only.
    if (i >= own.length + FULLY_ENCODED_RECIPIENTS) continue;
    for (const form of new Set([addr, addr.toLowerCase()])) {
      for (const frag of base64Fragments(form)) out.push({ re: new RegExp(escapeRe(frag), 'g'), replacement: REDACTED_B64, anchors: [frag.toLowerCase()] });
    }
    const lower = addr.toLowerCase();
    for (const algo of ['md5', 'sha1', 'sha256']) {
      const hex = createHash(algo).update(lower).digest('hex');
      out.push({ re: new RegExp(hex, 'gi'), replacement: REDACTED_TEXT, anchors: [hex.slice(0, 12)] });
    }
  }
  // Local parts after all full addresses, so the domain goes too when both are there.
  for (const addr of own) {
    const local = addr.split('@')[0];
    if (local.length >= MIN_LOCAL_PART && !COMMON_LOCAL_PARTS.has(local.toLowerCase()) && !/^\d+$/.test(local)) {
      out.push({ re: new RegExp(`(?<![A-Za-z0-9])${encodedCharsPattern(local)}(?![A-Za-z0-9])`, 'gi'), replacement: REDACTED_TEXT, anchors: [anchorOf(local)] });
    }
  }
  for (const name of new Set(identity.names.map((n) => n.trim()).filter((n) => n.length >= 3))) {
    const tokens = name.split(/[\s,]+/).filter(Boolean);
    const forms = [tokens, [...tokens].reverse()];
    for (const form of forms) {
      for (const enc of encodings(form.join(' '))) {
        const parts = enc.split(' ').map(escapeRe);
        const longest = enc.split(' ').reduce((a, b) => (b.length > a.length ? b : a), '');
        out.push({ re: new RegExp(`(?<![\\w])${parts.join('(?:\\s+|,\\s*|%20|\\+|_|=20|&nbsp;)')}(?![\\w])`, 'gi'), replacement: REDACTED_TEXT, anchors: [longest.toLowerCase()] });
      }
    }
    // Single name tokens, as written (case-sensitive): "Dear Alice," identifies the reporter too.
    for (const tok of tokens) {
      if (tok.length < 3) continue;
      for (const enc of encodings(tok)) out.push({ re: new RegExp(`(?<![\\w])${escapeRe(enc)}(?![\\w])`, 'g'), replacement: REDACTED_TEXT, anchors: [enc.toLowerCase()] });
    }
  }
  for (const num of new Set(identity.numbers)) {
    const digits = num.replace(/\D/g, '');
    if (digits.length < 6) continue;
    const last = digits.slice(-Math.min(9, digits.length));
    const core = last.split('').join('[\\s.\\-()/]{0,3}');
    out.push({ re: new RegExp(`(?<!\\d)(?:(?:\\+|00|%2b)\\d{1,3}[\\s.\\-()/]{0,3})?(?:\\(?0\\)?[\\s.\\-()/]{0,3})?${core}(?!\\d)`, 'gi'), replacement: REDACTED_NUMBER, anchors: [], digits: last });
  }
  return out;
}

/** A string's byte forms to search in latin1 views: UTF-8 bytes, and latin1 when it fits. */
function encodings(s: string): string[] {
  const utf8 = Buffer.from(s, 'utf8').toString('latin1');
  const forms = new Set([utf8]);
  if (/^[\u0000-\u00ff]*$/.test(s)) forms.add(s);
  return [...forms];
}

/**
 * A regex source matching `s` with every non-alphanumeric character also in its URL-encoded
 * (`%40`) and HTML-entity (`&#64;`, `&#x40;`, `&commat;`) forms.
 */
function encodedCharsPattern(s: string): string {
  const utf8 = Buffer.from(s, 'utf8').toString('latin1');
  let out = '';
  for (const ch of utf8) {
    if (/[A-Za-z0-9]/.test(ch)) {
      out += ch;
      continue;
    }
    const code = ch.charCodeAt(0);
    const hex = code.toString(16).padStart(2, '0');
    // No quoted-printable `=XX` here: QP bodies and encoded-words are decoded before matching.
    const alts = [escapeRe(ch), `%${hex}`, `&#0*${code};`, `&#x0*${hex};`];
    if (ch === '@') alts.push('&commat;');
    if (ch === '.') alts.push('&period;');
    out += `(?:${alts.join('|')})`;
  }
  return out;
}

/**
 * The base64 characters fully determined by `s` at each of the three alignments it can have
 * inside a longer base64 text (tracking links often carry the recipient's address in base64).
 */
export function base64Fragments(s: string): string[] {
  const bytes = Buffer.from(s, 'utf8');
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const padded = Buffer.concat([Buffer.alloc(k), bytes]);
    const enc = padded.toString('base64');
    // Group i (4 chars) encodes bytes [3i, 3i+3); keep groups lying wholly inside `s`.
    const first = Math.ceil(k / 3);
    const last = Math.floor((k + bytes.length) / 3) - 1;
    if (last < first) continue;
    const frag = enc.slice(first * 4, (last + 1) * 4);
    if (frag.length >= 8) {
      out.push(frag);
      out.push(frag.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return [...new Set(out)];
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
        enc += (c >= 33 && c <= 126 && c !== 61) || ((c === 32 || c === 9) && !trailingSpace) ? line[i] : `=${c.toString(16).toUpperCase().padStart(2, '0')}`;
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

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
