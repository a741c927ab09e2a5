/**
 * Text normalisation for near-duplicate detection. A campaign's messages differ by what the sender
 * personalises per recipient — greetings and names, tracking tokens, per-recipient URLs, random
 * "hash-buster" strings, dates and amounts — so everything that varies that way is removed or
 * folded to one placeholder before shingling, and what is left is the template the campaign shares.
 */
import { getDomain } from 'tldts';

/** Most tokens kept per message: bounds the work on hostile, huge texts. */
export const MAX_TOKENS = 4000;

const URL_RE = /\b(?:(?:https?|hxxps?|ftp):\/\/|www\.)[^\s<>"'()]+/giu;
// Bounded like the addresses themselves (RFC 5321: a local part of at most 64 characters, a domain
// of at most 255): unbounded runs made this regex quadratic on long runs of word characters.
export const EMAIL_RE = /[\p{L}\p{N}._%+-]{1,64}@[\p{L}\p{N}.-]{1,255}\.[\p{L}]{2,63}/giu;
/** {@link EMAIL_RE}, tried at one position only (see {@link replaceEmails}). */
const EMAIL_AT_RE = new RegExp(EMAIL_RE.source, 'iuy');
/** An address's local part is at most 64 code points: at most 128 UTF-16 units before its `@`. */
const MAX_LOCAL_UNITS = 128;
const TOKEN_RE = /[\p{L}\p{N}]+/gu;
const DIGIT_RE = /\p{N}/u;
/** A greeting line: "Dear John Smith,", "Hi Anna!", "Bonjour Mme Dupont", "Hello john.doe". */
const GREETING_RE = new RegExp(
  [
    String.raw`^\s*(?:dear|hi|hello|hey|greetings|good\s+(?:morning|afternoon|evening|day)|attn|attention|`,
    String.raw`bonjour|bonsoir|salut|cher|ch[eè]re|hallo|liebe[rs]?|sehr\s+geehrte[rs]?|hola|estimad[oa]|ciao|`,
    String.raw`caro|cara|beste|hej)\b[^\n]{0,60}$`,
  ].join(''),
  'iu',
);
/** Vowels, by UTF-16 code unit (all in the BMP). */
const VOWELS: ReadonlySet<number> = new Set([...'aeiouyàâäéèêëîïôöùûüáíóú'].map((c) => c.charCodeAt(0)));
/** ASCII letters and digits: exactly the ASCII characters of `[\p{L}\p{N}]`. */
const ASCII_WORD = new Uint8Array(128);
for (const [from, to] of [
  [48, 57],
  [65, 90],
  [97, 122],
])
  for (let c = from; c <= to; c++) ASCII_WORD[c] = 1;
/** A run of letters and digits starting at a position (sticky). */
const WORD_RUN = /[\p{L}\p{N}]+/uy;

/** True when a token contains a digit of any script (ASCII checked without a regex: hot path). */
function hasDigit(token: string): boolean {
  let nonAscii = false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
    if (c > 127) nonAscii = true;
  }
  return nonAscii && DIGIT_RE.test(token);
}

/** Tokens a campaign's template is made of, with personalisation removed. */
export interface NormalisedText {
  tokens: string[];
}

/**
 * Names of the recipient (display-name words and address local-part pieces) that a sender may
 * have merged into the text; they are dropped wherever they appear.
 */
export function recipientNameTokens(recipients: readonly { name: string; address: string }[]): Set<string> {
  const out = new Set<string>();
  for (const r of recipients) {
    const local = r.address.split('@')[0] ?? '';
    for (const piece of [
      ...(r.name.toLowerCase().match(TOKEN_RE) ?? []),
      ...(local.toLowerCase().match(TOKEN_RE) ?? []),
    ]) {
      if (piece.length >= 2) out.add(piece);
    }
  }
  return out;
}

/** The registrable domain of a URL as written (tolerates defanged and schemeless forms). */
function urlDomainToken(url: string): string {
  const cleaned = url.replace(/^hxxp/i, 'http').replace(/\[\.\]/g, '.');
  const withScheme = /^[a-z]+:\/\//i.test(cleaned) ? cleaned : `http://${cleaned}`;
  let host = '';
  try {
    host = new URL(withScheme).hostname;
  } catch {
    return 'url';
  }
  const domain = getDomain(host, { allowPrivateDomains: true }) ?? host;
  return `url ${domain}`;
}

/**
 * True for a token that looks machine-made rather than written: a random hash-buster or tracking
 * code. Tokens with digits are folded elsewhere; this catches letter-only noise such as
 * "qzxkwvbt" (no vowel over a long run) and base64-like runs.
 */
export function looksRandom(token: string): boolean {
  if (token.length > 24) return true;
  if (token.length < 5) return false;
  let run = 0;
  let longest = 0;
  let vowels = 0;
  // Code point by code point (a surrogate pair is one character, never a vowel).
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (isSurrogatePair(token, i)) i++;
    if (VOWELS.has(c)) {
      vowels++;
      run = 0;
    } else if (++run > longest) longest = run;
  }
  return vowels === 0 || (token.length >= 8 && longest >= 6);
}

/**
 * Calls `take` with each run of letters and digits of `text`, in order (`text.match(TOKEN_RE)`),
 * until it returns false; without a match object per run. ASCII is classified by table; at any
 * other character a sticky test of the same class takes the whole run at once (one regex call per
 * run, not per character: Cyrillic and CJK text stays as fast as `matchAll`).
 */
export function eachWord(text: string, take: (word: string) => boolean): void {
  const n = text.length;
  let start = -1;
  for (let i = 0; i < n; ) {
    const c = text.charCodeAt(i);
    if (c < 128) {
      if (ASCII_WORD[c] === 1) {
        if (start < 0) start = i;
        i++;
        continue;
      }
    } else {
      WORD_RUN.lastIndex = i;
      if (WORD_RUN.test(text)) {
        if (start < 0) start = i;
        i = WORD_RUN.lastIndex;
        continue;
      }
    }
    // Not a letter or digit: the run so far is a word.
    if (start >= 0) {
      if (!take(text.slice(start, i))) return;
      start = -1;
    }
    i += isSurrogatePair(text, i) ? 2 : 1;
  }
  if (start >= 0) take(text.slice(start));
}

/** True when `text[i]`, `text[i + 1]` are a high and a low surrogate (one astral character). */
function isSurrogatePair(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff || i + 1 >= text.length) return false;
  const d = text.charCodeAt(i + 1);
  return d >= 0xdc00 && d <= 0xdfff;
}

/**
 * `text.replace(EMAIL_RE, by)`, without the regex trying every position of the text. A match holds
 * exactly one `@` (neither side's class has it), so the leftmost match after `pos` can only start
 * within {@link MAX_LOCAL_UNITS} units before the first `@` after `pos`, or else after that `@`.
 * Each of those positions is tried in order with the same pattern made sticky — what a global
 * search does at each position — skipping the middle of surrogate pairs, as a `u` search does.
 */
export function replaceEmails(text: string, by: string): string {
  let out = '';
  let pos = 0;
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', Math.max(at + 1, pos))) {
    let found = false;
    for (let p = Math.max(pos, at - MAX_LOCAL_UNITS); p < at && !found; p++) {
      const c = text.charCodeAt(p);
      if (c >= 0xdc00 && c <= 0xdfff && p > pos) {
        const h = text.charCodeAt(p - 1);
        if (h >= 0xd800 && h <= 0xdbff) continue;
      }
      EMAIL_AT_RE.lastIndex = p;
      const m = EMAIL_AT_RE.exec(text);
      if (m) {
        out += text.slice(pos, p) + by;
        pos = p + m[0].length;
        found = true;
      }
    }
  }
  return pos === 0 ? text : out + text.slice(pos);
}

/**
 * Normalises a message's visible text (and subject) into template tokens:
 * NFKC, lower case; URLs → their registrable domain; e-mail addresses → `email`; any token with
 * a digit (dates, amounts, codes, order numbers) → `#`; greeting lines dropped; the recipient's
 * name tokens dropped; random-looking tokens dropped; runs of `#` collapsed.
 */
export function normaliseText(text: string, dropNames: ReadonlySet<string> = new Set()): NormalisedText {
  const lines = text.normalize('NFKC').split(/\r\n|\r|\n/);
  const kept: string[] = [];
  for (const line of lines) {
    if (GREETING_RE.test(line)) continue;
    kept.push(line);
  }
  let joined = kept.join('\n');
  // The regexes only run where they can match (most of the cost on long texts otherwise).
  if (joined.includes('://') || /www\./i.test(joined)) joined = joined.replace(URL_RE, (u) => ` ${urlDomainToken(u)} `);
  if (joined.includes('@')) joined = replaceEmails(joined, ' email ');
  joined = joined.toLowerCase();
  const tokens: string[] = [];
  eachWord(joined, (raw) => {
    let tok: string;
    if (hasDigit(raw)) tok = '#';
    else if (dropNames.has(raw) || looksRandom(raw)) return true;
    else tok = raw;
    if (tok === '#' && tokens[tokens.length - 1] === '#') return true;
    tokens.push(tok);
    return tokens.length < MAX_TOKENS;
  });
  return { tokens };
}
