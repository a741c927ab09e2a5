/**
 * The text redactor: finds every form of a reporter's identity in a latin1 view of bytes (one
 * character per byte, so UTF-8 and legacy 8-bit text are searched alike) and replaces it.
 *
 * Four passes, each over the output of the one before:
 * 1. plain (after passes 2–3, which see plain text too): addresses (any case, both IDN forms), MD5 / SHA-1 / SHA-256
 * hex of the address in
 *    its case variants and its hex encoding (replaced by the same hash of the placeholder
 *    address, so a tracking link keeps its shape), names whole and by parts (case- and
 *    accent-insensitive), distinctive local parts, the reporter's own mail domains and their
 *    hosts, phone numbers in national and international forms;
 * 2. the same rules over a decoded view in which percent-escapes (RFC 3986 §2.1, also doubled
 *    `%2540`) and HTML character references (numeric and named) are decoded; each match is mapped
 *    back to the bytes it came from and replaced in the same style (a percent-encoded address
 *    becomes `x%40redacted.invalid`, so a URL query value stays a valid, consistent value);
 * 3. the same over a quoted-printable view (RFC 2045 §6.7: `=40`, soft line breaks);
 * 4. base64 and base64url (RFC 4648 §4–5): a fragment of the identity at any of the three byte
 *    alignments marks a run; the run is decoded from the aligned offset, redacted by passes 1–4
 *    and re-encoded in its own alphabet and padding, so `?e=<base64 of the address>` becomes
 *    `?e=<base64 of x@redacted.invalid>` and a longer token keeps the rest of its content.
 */
import { createHash } from 'node:crypto';
import { BoundedMemo } from '../core/bounded-memo.ts';
import { namePartsOf, type IdentityForms } from './redact-identity.ts';
import {
  charCodesOf,
  charCodeView,
  composeViews,
  percentEncode,
  percentEntityView,
  quotedPrintableView,
  readerView,
  type View,
} from './redact-views.ts';
import { applyEdits, base64Fragments, buildFragments, redactBase64, type Counter } from './redact-base64.ts';

export { base64Fragments };

/** What replaces an address (a syntactically valid address so parsers keep working). */
export const REDACTED_ADDRESS = 'x@redacted.invalid';
export const REDACTED_TEXT = '[redacted]';
export const REDACTED_NUMBER = '[redacted-number]';
/** What replaces an address of the reporter's own mail server. */
export const REDACTED_IP = '[redacted-ip]';
/** What replaces a host name of the reporter's own mail domain (RFC 2606 reserved). */
export const REDACTED_DOMAIN = 'redacted.invalid';
const HASHES = ['md5', 'sha1', 'sha256'] as const;

export type { Counter };

/** One rule: a regex source (non-capturing groups only) and how to replace what it matches. */
interface Rule {
  source: string;
  flags: 'gi' | 'g';
  replace: (match: string) => string;
  /** Cheap test on the lower-cased text: false means the rule cannot match and is skipped. */
  gate: (t: GateInput) => boolean;
}

interface GateInput {
  lower: string;
  nonAscii: boolean;
  digits: () => string;
}

interface Compiled {
  rules: Rule[];
  /** Merged alternations per subset of active rules. */
  cache: Map<string, { re: RegExp; rules: Rule[] }[]>;
}

/** A compiled redactor for one identity. */
export interface TextRedactor {
  /** Redacts a latin1 view; counts replacements in `counter`. */
  redact(latin1: string, counter: Counter): string;
}

// ── helpers ───────────────────────────────────────────────────────────────────────────────

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The latin1 view of a string's UTF-8 bytes. */
function utf8Latin1(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** The byte forms of a character to search in latin1 views: UTF-8, and latin1 when it fits. */
function charForms(ch: string): string[] {
  const forms = new Set([utf8Latin1(ch)]);
  if (ch.charCodeAt(0) <= 0xff) forms.add(ch);
  return [...forms];
}

/** For each ASCII letter, its accented variants (both cases) as they appear in latin1 views. */
const ACCENTED: Map<string, string[]> = (() => {
  const m = new Map<string, Set<string>>();
  for (let cp = 0xc0; cp <= 0x24f; cp++) {
    const ch = String.fromCharCode(cp);
    const base = ch
      .normalize('NFD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase();
    if (!/^[a-z]$/.test(base) || base === ch.toLowerCase()) continue;
    const set = m.get(base) ?? new Set<string>();
    for (const f of charForms(ch)) set.add(f);
    m.set(base, set);
  }
  return new Map([...m.entries()].map(([k, v]) => [k, [...v]]));
})();

/**
 * For each ASCII letter, the regex alternation of the letter and its accented forms, built once:
 * escaping every form again for every letter of every name was most of the cost of compiling a
 * redactor (issue 17: one per report in the campaign stage).
 */
const ACCENTED_ALTERNATION: Map<string, string> = new Map(
  [...ACCENTED.entries()].map(([letter, forms]) => [letter, `(?:${letter}|${forms.map(escapeRe).join('|')})`]),
);

/** A regex source matching `token` (accent-folded) with any accent on its letters, any case. */
function accentInsensitive(token: string): string {
  let out = '';
  for (const ch of token) {
    const lower = ch.toLowerCase();
    const alternation = ACCENTED_ALTERNATION.get(lower);
    if (alternation !== undefined && /[a-z]/.test(lower)) out += alternation;
    else if (ch === '-' || ch === "'") out += `(?:${escapeRe(ch)}|\\s|_|\\+|%20|%27|&#39;)?`;
    else {
      const f = charForms(ch).map(escapeRe);
      out += f.length > 1 ? `(?:${f.join('|')})` : f[0];
    }
  }
  return out;
}

/** Separators between the words of a name in text, URLs, encoded words and HTML. */
const NAME_SEP = '(?:\\s+|,\\s*|%20|\\+|_|=20|&nbsp;|&#160;|&#xa0;|\\xc2\\xa0|\\xa0)';
/** ASCII word boundaries (a non-ASCII neighbour does not protect a name: over-redaction is safe). */
const B = '(?<![A-Za-z0-9])';
const E = '(?![A-Za-z0-9])';

function hexHashes(value: string): { algo: string; hex: string }[] {
  return HASHES.map((algo) => ({ algo, hex: createHash(algo).update(value, 'utf8').digest('hex') }));
}

/** {@link hexHashes} of the values seen lately: the same reporter's address is hashed for each of their reports. */
const RECENT_HEX_HASHES = new BoundedMemo(hexHashes, 4096);

/** Keeps the letter case of a hex match in its replacement. */
function sameCase(match: string, hex: string): string {
  return /[A-F]/.test(match) && !/[a-f]/.test(match) ? hex.toUpperCase() : hex;
}

// ── rules ─────────────────────────────────────────────────────────────────────────────────

/** The hashes that replace a hashed address and a hashed number, by algorithm (computed once). */
const HASH_PLACEHOLDER = new Map(hexHashes(REDACTED_ADDRESS).map((h) => [h.algo, h.hex]));
const NUMBER_HASH_PLACEHOLDER = new Map(hexHashes('+00000000000').map((h) => [h.algo, h.hex]));

function buildRules(forms: IdentityForms, encodedAddresses: boolean): Rule[] {
  const rules: Rule[] = [];
  const hashPlaceholder = HASH_PLACEHOLDER;
  const numberPlaceholder = NUMBER_HASH_PLACEHOLDER;
  const fully = forms.addresses.slice(0, forms.fullyEncoded);

  // Hashes and hex of the addresses (trackers carry them), and of E.164 numbers.
  const hexTargets = new Map<string, string>();
  for (const a of fully) {
    const written = forms.spellings.filter((w) => w.toLowerCase() === a);
    for (const v of new Set([a, a.toUpperCase(), a.replace(/^./, (c) => c.toUpperCase()), ...written])) {
      for (const h of RECENT_HEX_HASHES.get(v)) hexTargets.set(h.hex, hashPlaceholder.get(h.algo) ?? '');
    }
    hexTargets.set(Buffer.from(a, 'utf8').toString('hex'), Buffer.from(REDACTED_ADDRESS).toString('hex'));
  }
  for (const n of forms.numbers) {
    if (!n.e164) continue;
    for (const v of [n.e164, n.e164.slice(1)])
      for (const h of RECENT_HEX_HASHES.get(v)) hexTargets.set(h.hex, numberPlaceholder.get(h.algo) ?? '');
  }
  for (const [hex, placeholder] of hexTargets) {
    const anchor = hex.slice(0, 12);
    rules.push({
      source: hex,
      flags: 'gi',
      replace: (m) => sameCase(m, placeholder),
      gate: (t) => t.lower.includes(anchor),
    });
  }

  // Addresses as regex rules only in decoded views (plain ones are replaced by search, faster).
  if (encodedAddresses) {
    for (const a of fully) {
      const form = utf8Latin1(a);
      rules.push({
        source: escapeRe(form),
        flags: 'gi',
        replace: () => REDACTED_ADDRESS,
        gate: (t) => t.lower.includes(form),
      });
    }
  }

  // Whole names, in both orders ("Léa Martin", "MARTIN, Léa").
  for (const n of forms.names) {
    const orders = n.tokens.length > 1 ? [n.tokens, [...n.tokens].reverse()] : [n.tokens];
    const longest = n.tokens.reduce((a, b) => (b.length > a.length ? b : a), '').toLowerCase();
    for (const order of orders) {
      rules.push({
        source: `${B}${order.map(accentInsensitive).join(NAME_SEP)}${E}`,
        flags: 'gi',
        replace: () => `${REDACTED_TEXT}`,
        gate: (t) => t.nonAscii || t.lower.includes(longest),
      });
    }
  }
  // Local parts alone ("lea.martin"), before single name words so the longer match wins.
  for (const local of forms.localParts) {
    const form = utf8Latin1(local);
    rules.push({
      source: `${B}${escapeRe(form)}${E}`,
      flags: 'gi',
      replace: () => REDACTED_TEXT,
      gate: (t) => t.lower.includes(form),
    });
  }
  // The reporter's own mail domains and every host under them (the recipient's mail host).
  for (const d of forms.domains) {
    const form = utf8Latin1(d);
    rules.push({
      source: `(?<![A-Za-z0-9-])(?:[A-Za-z0-9-]{1,63}\\.){0,8}${escapeRe(form)}(?![A-Za-z0-9-])`,
      flags: 'gi',
      replace: () => REDACTED_DOMAIN,
      gate: (t) => t.lower.includes(form),
    });
  }
  // Single name words, accent- and case-insensitive ("Hello LEA", "Bonjour Léa").
  for (const n of forms.names) {
    for (const part of namePartsOf(n)) {
      const lower = part.toLowerCase();
      rules.push({
        source: `${B}${accentInsensitive(part)}${E}`,
        flags: 'gi',
        replace: () => REDACTED_TEXT,
        gate: (t) => t.nonAscii || t.lower.includes(lower),
      });
    }
  }
  // The reporter's own mail servers' addresses, whole (not inside a longer address or number).
  for (const ip of forms.hostAddresses) {
    const v6 = ip.includes(':');
    rules.push({
      source: v6 ? `(?<![0-9A-Fa-f:])${escapeRe(ip)}(?![0-9A-Fa-f:])` : `(?<![0-9.])${escapeRe(ip)}(?![0-9]|\\.[0-9])`,
      flags: 'gi',
      replace: () => REDACTED_IP,
      gate: (t) => t.lower.includes(ip),
    });
  }
  // Phone numbers: national (0 6 12 34 56 78), international (+33 6…, 0033 6…, %2B33…).
  for (const num of forms.numbers) {
    const core = num.core.split('').join('[\\s.\\-()/]{0,3}');
    rules.push({
      source: `(?<!\\d)(?:(?:\\+|00|%2b)\\d{1,3}[\\s.\\-()/]{0,3})?(?:\\(?0\\)?[\\s.\\-()/]{0,3})?${core}(?!\\d)`,
      flags: 'gi',
      replace: () => REDACTED_NUMBER,
      gate: (t) => t.digits().includes(num.core),
    });
  }
  return rules;
}

function passesFor(active: Rule[]): { re: RegExp; rules: Rule[] }[] {
  const passes: { re: RegExp; rules: Rule[] }[] = [];
  for (const flags of ['gi', 'g'] as const) {
    const group = active.filter((r) => r.flags === flags);
    if (group.length === 0) continue;
    // Every source uses only non-capturing groups, so capture i is rule i.
    passes.push({ re: new RegExp(group.map((r) => `(${r.source})`).join('|'), flags), rules: group });
  }
  return passes;
}

interface Hit {
  start: number;
  end: number;
  replacement: string;
}

/** Every match of the active rules in `text` (leftmost, earlier rules first at one position). */
function findHits(text: string, compiled: Compiled): Hit[] {
  const lower = text.toLowerCase();
  let digits: string | null = null;
  const gate: GateInput = {
    lower,
    nonAscii: /[\x80-\xff]/.test(text),
    digits: () => (digits ??= text.replace(/[\s.\-()/]/g, '')),
  };
  const active: number[] = [];
  compiled.rules.forEach((r, i) => {
    if (r.gate(gate)) active.push(i);
  });
  if (active.length === 0) return [];
  const key = active.join(',');
  let passes = compiled.cache.get(key);
  if (!passes) {
    passes = passesFor(active.map((i) => compiled.rules[i]));
    compiled.cache.set(key, passes);
  }
  const hits: Hit[] = [];
  for (const pass of passes) {
    pass.re.lastIndex = 0;
    for (let m = pass.re.exec(text); m; m = pass.re.exec(text)) {
      if (m[0].length === 0) {
        pass.re.lastIndex++;
        continue;
      }
      const idx = m.findIndex((g, i) => i > 0 && g !== undefined);
      const rule = pass.rules[idx - 1];
      // A word inside a long base64 run is encoded data (a picture's data: URI), not a word: the base64 pass reads
      // the run decoded. Rewriting it would break the data (a review saw `+zoe/` in an image become `+[redacted]/`).
      if (B64_WORD.test(m[0]) && insideBase64Run(text, m.index, m.index + m[0].length)) continue;
      hits.push({ start: m.index, end: m.index + m[0].length, replacement: rule ? rule.replace(m[0]) : REDACTED_TEXT });
    }
  }
  return hits;
}

/** A match made only of base64's alphabet (a name word, a local part without a dot). */
const B64_WORD = /^[A-Za-z0-9+/]+$/;
/** Base64 characters needed on each side of a match for it to be inside a run. */
const RUN_SIDE = 16;

function isB64(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
}

/** Whether [start, end) sits inside a base64 run: at least {@link RUN_SIDE} base64 characters on each side. */
function insideBase64Run(text: string, start: number, end: number): boolean {
  let left = 0;
  while (left < RUN_SIDE && start - left - 1 >= 0 && isB64(text.charCodeAt(start - left - 1))) left++;
  if (left < RUN_SIDE) return false;
  let right = 0;
  while (right < RUN_SIDE && end + right < text.length && isB64(text.charCodeAt(end + right))) right++;
  return right >= RUN_SIDE;
}

/** Applies non-overlapping hits (the earliest-starting wins an overlap), counting them. */
function splice(text: string, hits: Hit[], counter: Counter): string {
  return applyEdits(text, hits, counter);
}

/** The source text a sparse view left out between its characters [from, to), in order. */
function leftOut(text: string, view: View, from: number, to: number): string {
  const gaps: string[] = [];
  for (let k = from; k + 1 < to; k++)
    if (view.ends[k] < view.starts[k + 1]) gaps.push(text.slice(view.ends[k], view.starts[k + 1]));
  return gaps.join('');
}

/** Reach of a match across a change of a sparse view, each way (an address or a name is far shorter in practice). */
const CHANGE_REACH = 160;

/**
 * The matches in a sparse view that touch one of its changes: only the text within reach of each change is searched
 * (the rest of the view is the source as it is, searched by the plain pass).
 */
function findHitsNear(view: View, changes: readonly number[], compiled: Compiled): Hit[] {
  const windows: [number, number, number, number][] = [];
  for (let k = 0; k < changes.length; k++) {
    const from = Math.max(0, changes[k] - CHANGE_REACH);
    const to = Math.min(view.length, changes[k] + CHANGE_REACH);
    const last = windows[windows.length - 1];
    if (last !== undefined && from <= last[1]) {
      last[1] = to;
      last[3] = k;
    } else windows.push([from, to, k, k]);
  }
  if (windows.reduce((n, w) => n + w[1] - w[0], 0) > view.length / 2) return findHits(view.text, compiled);
  // The windows searched as one text, a NUL between two (no rule matches one, and it ends a word).
  const at: number[] = [];
  let length = 0;
  for (const [from, to] of windows) {
    at.push(length);
    length += to - from + 1;
  }
  const joined = windows.map(([from, to]) => view.text.slice(from, to)).join('\0');
  const out: Hit[] = [];
  for (const h of findHits(joined, compiled)) {
    let w = 0;
    while (w + 1 < at.length && at[w + 1] <= h.start) w++;
    const [from, , first, last] = windows[w];
    const start = h.start - at[w] + from;
    const end = h.end - at[w] + from;
    let touches = false;
    for (let k = first; k <= last && !touches; k++) touches = changes[k] >= start && changes[k] <= end;
    if (touches) out.push({ start, end, replacement: h.replacement });
  }
  return out;
}

/** Runs the rules over a view and replaces each match's source bytes, in the source's style. */
function redactThroughView(
  text: string,
  view: View | null,
  compiled: Compiled,
  counter: Counter,
  style: 'percent' | 'qp' | 'codes',
): string {
  if (!view) return text;
  const hits = view.changes ? findHitsNear(view, view.changes, compiled) : findHits(view.text, compiled);
  if (hits.length === 0) return text;
  const mapped: Hit[] = hits.map((h) => {
    const start = view.starts[h.start];
    const end = view.ends[h.end - 1];
    // Percent-encoded in, percent-encoded out (also when only a neighbour was escaped: `%20Lea`).
    const around = text.slice(Math.max(0, start - 3), end);
    const replacement =
      style === 'codes'
        ? charCodesOf(h.replacement)
        : style === 'percent' && around.includes('%')
          ? percentEncode(h.replacement)
          : h.replacement;
    // What the reader's view left out inside the match (tags, folds, invisible characters, a continuation's joint)
    // stays, after the placeholder: a link around one letter of the address keeps its URL (a review had a spammer's
    // link vanish from the copies), a tag stays balanced.
    return { start, end, replacement: view.changes ? replacement + leftOut(text, view, h.start, h.end) : replacement };
  });
  return splice(text, mapped, counter);
}

/**
 * The text as a reader sees it ({@link readerView}), also after percent-escapes and character references are decoded
 * (`ｌｅａ&#xff20;…`, an RFC 2231 continuation split inside `lea.mar%40…`).
 */
function readerViewOf(text: string, decoded: View | null): View | null {
  if (decoded === null) return readerView(text);
  const inner = readerView(decoded.text);
  return inner === null ? readerView(text) : composeViews(decoded, inner);
}

// ── the redactor ──────────────────────────────────────────────────────────────────────────

/** Compiles the redactor for one expanded identity. */
export function compileRedactor(forms: IdentityForms): TextRedactor {
  const plain: Compiled = { rules: buildRules(forms, false), cache: new Map() };
  const decoded: Compiled = { rules: buildRules(forms, true), cache: new Map() };
  const literals = forms.addresses.map(utf8Latin1);
  const frags = buildFragments(forms);
  const hasAnything = literals.length > 0 || plain.rules.length > 0;

  const run = (text: string, counter: Counter, depth: number): string => {
    if (!hasAnything || text.length === 0) return text;
    // 1. Plain addresses by search (long To: lists), then the plain rules.
    let out = text;
    let lower = out.toLowerCase();
    for (const lit of literals) {
      if (!lower.includes(lit)) continue;
      const pieces: string[] = [];
      let pos = 0;
      for (let i = lower.indexOf(lit); i !== -1; i = lower.indexOf(lit, pos)) {
        pieces.push(out.slice(pos, i), REDACTED_ADDRESS);
        pos = i + lit.length;
        counter.n++;
      }
      pieces.push(out.slice(pos));
      out = pieces.join('');
      lower = out.toLowerCase();
    }
    // 2–3. Percent-encoded and entity-encoded forms, then quoted-printable ones; a view holds the
    // plain text too, so an encoded address is matched whole before its local part alone could be.
    // What a reader sees first: a match there spans joints (tags, folds, continuations) that would let a shorter
    // match in a plainer view take part of an address and leave the rest.
    const percent = percentEntityView(out);
    const read = redactThroughView(out, readerViewOf(out, percent), decoded, counter, 'percent');
    out = redactThroughView(read, read === out ? percent : percentEntityView(read), decoded, counter, 'percent');
    out = redactThroughView(out, quotedPrintableView(out), decoded, counter, 'qp');
    out = redactThroughView(out, charCodeView(out), decoded, counter, 'codes');
    out = splice(out, findHits(out, plain), counter);
    // 4. Base64 and base64url, at any alignment.
    if (frags) out = redactBase64(out, frags, run, counter, depth);
    return out;
  };
  return { redact: (latin1, counter) => run(latin1, counter, 0) };
}
