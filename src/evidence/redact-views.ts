/**
 * Decoded views for the text redactor (redact-text.ts): a text with its percent-escapes
 * (RFC 3986 §2.1, also doubled), HTML character references (numeric and named) or
 * quoted-printable escapes (RFC 2045 §6.7) decoded, and for each decoded character the span of
 * source bytes it came from, so a match in the view is replaced in the source, in its own style.
 */

/** The latin1 view of a string's UTF-8 bytes. */
function utf8Latin1(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** A decoded view of a text and, for each of its characters, the source span it came from. */
export interface View {
  text: string;
  starts: Int32Array;
  ends: Int32Array;
  length: number;
  /**
   * Where the view differs from its source (view positions), when the view is sparse: a match that touches none of
   * them is a match of the source itself, found by the plain pass, so only the text around them need be searched.
   */
  changes?: number[];
}

/** Named character references that can hide an identity (HTML Living Standard §13.5). */
const NAMED: Record<string, number> = (() => {
  const m: Record<string, number> = {
    commat: 0x40,
    period: 0x2e,
    lowbar: 0x5f,
    hyphen: 0x2d,
    dash: 0x2010,
    plus: 0x2b,
    nbsp: 0xa0,
    shy: 0xad,
    zwj: 0x200d,
    zwnj: 0x200c,
    lrm: 0x200e,
    rlm: 0x200f,
    amp: 0x26,
    num: 0x23,
    percnt: 0x25,
    equals: 0x3d,
    quest: 0x3f,
    colon: 0x3a,
    sol: 0x2f,
    apos: 0x27,
    quot: 0x22,
    szlig: 0xdf,
    yuml: 0xff,
    OElig: 0x152,
    oelig: 0x153,
    Scaron: 0x160,
    scaron: 0x161,
    Yuml: 0x178,
    Zcaron: 0x17d,
    zcaron: 0x17e,
    lt: 0x3c,
    gt: 0x3e,
  };
  const upper = (
    'Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde ' +
    'Ograve Oacute Ocirc Otilde Ouml - Oslash Ugrave Uacute Ucirc Uuml Yacute THORN'
  ).split(' ');
  upper.forEach((name, i) => {
    if (name === '-') return;
    m[name] = 0xc0 + i;
    m[
      name === 'AElig'
        ? 'aelig'
        : name === 'ETH'
          ? 'eth'
          : name === 'THORN'
            ? 'thorn'
            : name[0].toLowerCase() + name.slice(1)
    ] = 0xe0 + i;
  });
  return m;
})();

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

class ViewBuilder {
  private out: string[] = [];
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  private n = 0;
  decoded = false;
  /** View positions where the view differs from the source (a character decoded or left out before it). */
  readonly changes: number[] = [];
  constructor(size: number) {
    this.starts = new Int32Array(size + 1);
    this.ends = new Int32Array(size + 1);
  }
  push(chars: string, start: number, end: number): void {
    for (const c of chars) {
      this.out.push(c);
      this.starts[this.n] = start;
      this.ends[this.n] = end;
      this.n++;
    }
  }
  /** Source characters [from, to) as they are. */
  run(t: string, from: number, to: number): void {
    if (to <= from) return;
    this.out.push(t.slice(from, to));
    for (let k = from; k < to; k++) {
      this.starts[this.n] = k;
      this.ends[this.n] = k + 1;
      this.n++;
    }
  }
  /** Marks a change at the current view position. */
  change(): void {
    this.decoded = true;
    if (this.changes[this.changes.length - 1] !== this.n) this.changes.push(this.n);
  }
  view(): View | null {
    return this.decoded
      ? {
          text: this.out.join(''),
          starts: this.starts,
          ends: this.ends,
          length: this.n,
          ...(this.changes.length > 0 ? { changes: this.changes } : {}),
        }
      : null;
  }
}

/** `\x40`, `\u0040`, `\u{40}`, CSS `\40 `, legacy octal `\100` / `\56`. */
const SCRIPT_ESCAPE = new RegExp(
  [
    '^\\\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|u\\{([0-9A-Fa-f]{1,6})\\}',
    '([0-9A-Fa-f]{1,6}) ',
    '([0-3][0-7]{2}|[0-7]{2}))',
  ].join('|'),
);

/** Percent-escapes and HTML character references decoded (code points as their UTF-8 bytes). */
export function percentEntityView(t: string): View | null {
  if (!/%[0-9A-Fa-f]{2}|&#?[A-Za-z0-9]{2,8};?|\\[xu0-9A-Fa-f]/.test(t)) return null;
  const b = new ViewBuilder(t.length);
  let i = 0;
  while (i < t.length) {
    const c = t.charCodeAt(i);
    if (c === 0x25 && i + 2 < t.length && isHex(t.charCodeAt(i + 1)) && isHex(t.charCodeAt(i + 2))) {
      let byte = parseInt(t.slice(i + 1, i + 3), 16);
      let len = 3;
      // `%2540` is a percent-escape escaped again.
      if (byte === 0x25 && isHex(t.charCodeAt(i + 3)) && isHex(t.charCodeAt(i + 4))) {
        byte = parseInt(t.slice(i + 3, i + 5), 16);
        len = 5;
      }
      b.push(String.fromCharCode(byte), i, i + len);
      b.decoded = true;
      i += len;
      continue;
    }
    if (c === 0x5c) {
      // JavaScript and CSS escapes (ECMA-262 §12.9.4: `\x40`, `\u0040`, `\u{40}`) in scripts and styles.
      // Also CSS escapes (CSS Syntax §4.3.7: `\6c ` — hex, one white space ends them) and a script's legacy octal
      // ones (`\154`, three digits).
      const m = SCRIPT_ESCAPE.exec(t.slice(i, i + 10));
      const cp = m ? (m[5] !== undefined ? parseInt(m[5], 8) : parseInt(m[1] ?? m[2] ?? m[3] ?? m[4] ?? '', 16)) : -1;
      if (m && cp >= 0 && cp <= 0x10ffff) {
        b.push(cp < 0x80 ? String.fromCharCode(cp) : utf8Latin1(String.fromCodePoint(cp)), i, i + m[0].length);
        b.decoded = true;
        i += m[0].length;
        continue;
      }
    }
    if (c === 0x26) {
      const m = /^&(?:#[xX]([0-9A-Fa-f]{1,6});?|#([0-9]{1,7});?|([A-Za-z]{2,8});)/.exec(t.slice(i, i + 12));
      const cp = m
        ? m[1] !== undefined
          ? parseInt(m[1], 16)
          : m[2] !== undefined
            ? Number(m[2])
            : (NAMED[m[3] ?? ''] ?? -1)
        : -1;
      if (m && cp >= 0 && cp <= 0x10ffff) {
        b.push(cp < 0x80 ? String.fromCharCode(cp) : utf8Latin1(String.fromCodePoint(cp)), i, i + m[0].length);
        b.decoded = true;
        i += m[0].length;
        continue;
      }
    }
    b.push(t[i], i, i + 1);
    i++;
  }
  return b.view();
}

/** Quoted-printable escapes and soft line breaks decoded (RFC 2045 §6.7). */
export function quotedPrintableView(t: string): View | null {
  if (!/=[0-9A-Fa-f]{2}|=\r?\n/.test(t)) return null;
  const b = new ViewBuilder(t.length);
  let i = 0;
  let pending = -1;
  while (i < t.length) {
    const c = t.charCodeAt(i);
    if (c === 0x3d) {
      const soft = t.startsWith('\r\n', i + 1) ? 3 : t.charCodeAt(i + 1) === 0x0a ? 2 : 0;
      if (soft > 0) {
        if (pending < 0) pending = i;
        b.decoded = true;
        i += soft;
        continue;
      }
      if (isHex(t.charCodeAt(i + 1)) && isHex(t.charCodeAt(i + 2))) {
        b.push(String.fromCharCode(parseInt(t.slice(i + 1, i + 3), 16)), pending >= 0 ? pending : i, i + 3);
        pending = -1;
        b.decoded = true;
        i += 3;
        continue;
      }
    }
    b.push(t[i], pending >= 0 ? pending : i, i + 1);
    pending = -1;
    i++;
  }
  return b.view();
}

/** Percent-encodes an ASCII replacement (RFC 3986 unreserved characters stay as they are). */
export function percentEncode(s: string): string {
  return s.replace(/[^A-Za-z0-9._~-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** Zero-width and invisible characters (UTF-8 bytes as latin1) that a renderer shows as nothing. */
const INVISIBLE = [
  '\xe2\x80\x8b', // U+200B zero-width space
  '\xe2\x80\x8c', // U+200C zero-width non-joiner
  '\xe2\x80\x8d', // U+200D zero-width joiner
  '\xe2\x80\x8e', // U+200E left-to-right mark
  '\xe2\x80\x8f', // U+200F right-to-left mark
  '\xe2\x81\xa0', // U+2060 word joiner
  '\xe2\x81\xa1', // U+2061–2064 invisible operators
  '\xe2\x81\xa2',
  '\xe2\x81\xa3',
  '\xe2\x81\xa4',
  '\xef\xbb\xbf', // U+FEFF zero-width no-break space
  '\xc2\xad', // U+00AD soft hyphen
  '\xcd\x8f', // U+034F combining grapheme joiner
  '\xe1\xa0\x8e', // U+180E Mongolian vowel separator
];
/** Inline HTML elements and comments that change no letter of the text around them. */
const INLINE_ELEMENTS =
  'span|b|i|u|em|strong|font|small|big|sup|sub|wbr|s|mark|a|abbr|ins|bdi|bdo|tt|q|cite|code|kbd|samp|var|time|data|' +
  'label|nobr|o:p';
/** An attribute list: unquoted characters, or quoted values that may hold `>` (`title="a>b"`). */
const ATTRIBUTES = `(?:\\s(?:[^<>"']|"[^"]{0,300}"|'[^']{0,300}'){0,300})?`;
const INLINE_TAG = new RegExp(`^<(?:!--[\\s\\S]{0,2000}?--|\\/?(?:${INLINE_ELEMENTS})${ATTRIBUTES}\\/?)>`, 'i');
/**
 * An opening inline tag that shows nothing of what it holds: the `hidden` attribute, or a style of `display: none` or
 * `font-size: 0` (`<span style="display:none">xyz</span>` between two letters joins them for a reader).
 */
const HIDING_TAG = new RegExp(
  `^<(${INLINE_ELEMENTS})(?=\\s)(?:[^>]*?\\shidden(?=[\\s/>=])|[^>]*?\\sstyle\\s*=\\s*["']?[^"'>]*?` +
    `(?:display\\s*:\\s*none|font-size\\s*:\\s*0(?![.\\d]*[1-9])))`,
  'i',
);
/** Most characters a hidden element may hold for the reader's view to step over it. */
export const HIDDEN_MAX = 2000;
/**
 * Characters one view may scan for the ends of hidden elements ({@link HIDDEN_MAX} counted for each, so 131 of them):
 * a megabyte of unclosed `<span hidden>` took 2 s without it, 0.1 s with it; past it, hidden elements are read as
 * plain tags.
 */
export const HIDDEN_SCAN_BUDGET = 256 * 1024;

/**
 * Where the element a {@link HIDING_TAG} opened at `at` (its tag `length` long) ends, its closing tag included, with
 * elements of the same name nested inside counted; -1 when it does not end within {@link HIDDEN_MAX} characters.
 */
function hiddenElementEnd(t: string, at: number, length: number, name: string): number {
  const from = at + length;
  const inside = t.slice(from, from + HIDDEN_MAX);
  let depth = 1;
  for (const m of inside.matchAll(new RegExp(`<(/?)${name.replace(':', '\\:')}(?=[\\s/>])[^>]*>`, 'gi'))) {
    depth += m[1] ? -1 : m[0].endsWith('/>') ? 0 : 1;
    if (depth === 0) return from + (m.index ?? 0) + m[0].length;
  }
  return -1;
}
/** An RFC 2231 parameter continuation joint (`…"; filename*1*="…`), also across a folded header line. */
const CONTINUATION = /^"?\s*;\s*(?:\r?\n[ \t]+)?[A-Za-z0-9-]{1,40}\*\d{1,3}\*?=\s*"?/;

/** A character of a word or an address (any byte of a UTF-8 sequence counts). */
const WORDISH = /[A-Za-z0-9.@%_+\x80-\xff-]/;

/** Where the reader's view may differ from the text: fullwidth forms, the ideographic full stop, invisible
 * characters, a tag, a line fold (a line break and one space or tab after a letter, digit or address character),
 * a parameter continuation. */
const READER_TRIGGER = new RegExp(
  [
    '\\xef[\\xbc\\xbd]|\\xe3\\x80\\x82|\\xf0\\x9d[\\x90-\\x9f]',
    '\\xe2\\x80[\\x8b-\\x8f]|\\xe2\\x81[\\xa0-\\xa4]|\\xef\\xbb\\xbf|\\xc2\\xad|\\xcd\\x8f|\\xe1\\xa0\\x8e|<',
    // A soft hyphen byte after an ASCII one: Latin-1's (ISO 8859-1, windows-1252, …); in UTF-8 it can only follow a
    // lead byte.
    '(?<=[\\x00-\\x7f])\\xad',
    // A fold (a line break and one space or tab) inside a word: only after a line of 60 characters or more, as
    // iCalendar and vCard fold (at 75 octets, inside a character too), not a header's fold after `by`.
    '\\r?\\n(?<=[^\\r\\n]{59}[A-Za-z0-9.@%_+\\x80-\\xff-]\\r?\\n)[ \\t](?![ \\t])',
    '[";](?=\\s*(?:\\r?\\n[ \\t]+)?[A-Za-z0-9-]{1,40}\\*\\d)',
  ].join('|'),
  'g',
);

/**
 * The text as a reader sees it (views for the text redactor): fullwidth forms read as ASCII (`ｌｅａ＠…`, U+FF01–FF5E,
 * also the ideographic full stop), zero-width characters and soft hyphens dropped (also a Latin-1 soft hyphen byte),
 * inline HTML tags and comments between letters dropped (`lea<span></span>.martin`, attribute values holding `>`
 * included), with what an inline element shows nothing of (`hidden`, `display: none`, `font-size: 0`), iCalendar and
 * vCard line folds unfolded (RFC 5545 §3.1: a line break and one space or tab are removed), and RFC 2231 parameter
 * continuations joined (`filename*0*=…; filename*1*=…`). A match is replaced in the source with its text as written
 * around it.
 */
export function readerView(t: string): View | null {
  READER_TRIGGER.lastIndex = 0;
  if (!READER_TRIGGER.test(t)) return null;
  const b = new ViewBuilder(t.length);
  let pos = 0;
  let hiddenBudget = HIDDEN_SCAN_BUDGET;
  READER_TRIGGER.lastIndex = 0;
  for (let m = READER_TRIGGER.exec(t); m; m = READER_TRIGGER.exec(t)) {
    const i = m.index;
    if (i < pos) continue;
    const c = t.charCodeAt(i);
    let skip = 0;
    let chars = '';
    if (c === 0xef && (t.charCodeAt(i + 1) === 0xbc || t.charCodeAt(i + 1) === 0xbd)) {
      // U+FF01–FF5E are EF BC 81–BF and EF BD 80–9E in UTF-8: ASCII 0x21–0x7E.
      const cp = ((t.charCodeAt(i + 1) & 0x03) << 6) | (t.charCodeAt(i + 2) & 0x3f) | 0xff00;
      if (cp >= 0xff01 && cp <= 0xff5e) {
        chars = String.fromCharCode(cp - 0xfee0);
        skip = 3;
      }
    } else if (c === 0xe3) {
      chars = '.';
      skip = 3;
    } else if (c === 0xf0) {
      // Mathematical alphanumeric symbols (U+1D400–1D7FF: 𝗅𝖾𝖺, 𝐥𝐞𝐚): the letters and digits they are (NFKC).
      const ch = Buffer.from(t.slice(i, i + 4), 'latin1').toString('utf8');
      const plain = ch.normalize('NFKC');
      if (/^[A-Za-z0-9]$/.test(plain)) {
        chars = plain;
        skip = 4;
      }
    } else if (c === 0xe2 || c === 0xef || c === 0xc2 || c === 0xcd || c === 0xe1) {
      skip = INVISIBLE.find((x) => t.startsWith(x, i))?.length ?? 0;
    } else if (c === 0x3c) {
      // Only tags between two characters of a word or an address join anything (`j<span></span>d@…`).
      if (i > 0 && WORDISH.test(t[i - 1])) {
        let end = i;
        for (
          let tag = INLINE_TAG.exec(t.slice(end, end + 2010));
          tag;
          tag = INLINE_TAG.exec(t.slice(end, end + 2010))
        ) {
          const hiding = hiddenBudget > 0 ? HIDING_TAG.exec(tag[0]) : null;
          if (hiding) hiddenBudget -= HIDDEN_MAX;
          const after = hiding ? hiddenElementEnd(t, end, tag[0].length, hiding[1]) : -1;
          end = after > 0 ? after : end + tag[0].length;
        }
        if (end > i && end < t.length && WORDISH.test(t[end])) skip = end - i;
      }
    } else if (c === 0xad) {
      skip = 1;
    } else if (c === 0x0d || c === 0x0a) {
      skip = m[0].length;
    } else {
      skip = CONTINUATION.exec(t.slice(i, i + 80))?.[0].length ?? 0;
    }
    if (skip === 0) continue;
    b.run(t, pos, i);
    b.change();
    if (chars) b.push(chars, i, i + skip);
    pos = i + skip;
    READER_TRIGGER.lastIndex = pos;
  }
  b.run(t, pos, t.length);
  return b.view();
}

/**
 * A view of a view: `inner` reads `outer.text`; each of its characters maps to the source span of the outer
 * characters it came from (the reader's view of a percent-decoded text).
 */
export function composeViews(outer: View, inner: View): View {
  const starts = new Int32Array(inner.length + 1);
  const ends = new Int32Array(inner.length + 1);
  for (let k = 0; k < inner.length; k++) {
    starts[k] = outer.starts[inner.starts[k]];
    ends[k] = outer.ends[inner.ends[k] - 1];
  }
  return { text: inner.text, starts, ends, length: inner.length, ...(inner.changes ? { changes: inner.changes } : {}) };
}

/** A script's `String.fromCharCode(108, 101, 0x61, …)` call: its arguments. */
/** The start of a call's argument list: `fromCharCode(`, `fromCodePoint(`, `fromCharCode.apply(null, [`. */
const CALL_OPEN = String.raw`fromC(?:harCode|odePoint)\s*(?:\.apply\s*\(\s*(?:null|this|undefined|String)\s*,\s*\[|\()`;
const FROM_CHAR_CODE = new RegExp(`${CALL_OPEN}([\\s\\d,xXa-fA-F]{1,4000})[)\\]]`, 'g');
/** What stands between two calls a script concatenates (`…(108) + String.fromCharCode(101)…`). */
const BETWEEN_CALLS = new RegExp(`^[)\\]]{1,2}\\s*\\+\\s*(?:String\\s*\\.\\s*)?${CALL_OPEN}$`);

/**
 * Each `String.fromCharCode(…)` call's numeric arguments (also `fromCodePoint`, and `fromCharCode.apply(null, […])`)
 * read as the characters they make (ECMA-262 §22.1.2.1), calls a script concatenates read as one, the rest of the
 * text as it is: a match is replaced by the character codes of its replacement ({@link charCodesOf}), so the script
 * stays a script (a match over several calls leaves one call with the placeholder's codes).
 */
export function charCodeView(t: string): View | null {
  if (!t.includes('fromCharCode') && !t.includes('fromCodePoint')) return null;
  const b = new ViewBuilder(t.length);
  let pos = 0;
  let previousEnd = -1;
  FROM_CHAR_CODE.lastIndex = 0;
  for (let m = FROM_CHAR_CODE.exec(t); m; m = FROM_CHAR_CODE.exec(t)) {
    const argsAt = m.index + m[0].length - 1 - m[1].length;
    // The separator from the previous call's last argument to this call's first: left out of the view when it is
    // only the concatenation of two calls.
    const between = previousEnd >= 0 ? t.slice(previousEnd, argsAt) : null;
    const joined = between !== null && BETWEEN_CALLS.test(between.replace(/^[\s,]+/, ''));
    if (!joined) for (let k = pos; k < argsAt; k++) b.push(t[k], k, k + 1);
    for (const a of m[1].matchAll(/0[xX][0-9A-Fa-f]{1,6}|\d{1,7}/g)) {
      const cp = Number(a[0]);
      if (cp > 0x10ffff) continue;
      const at = argsAt + (a.index ?? 0);
      b.push(cp < 0x80 ? String.fromCharCode(cp) : utf8Latin1(String.fromCodePoint(cp)), at, at + a[0].length);
      b.decoded = true;
    }
    pos = argsAt + m[1].length;
    previousEnd = pos;
  }
  for (let k = pos; k < t.length; k++) b.push(t[k], k, k + 1);
  return b.view();
}

/** A replacement as `fromCharCode` arguments (`x@` → `120,64`). */
export function charCodesOf(s: string): string {
  return [...s].map((c) => c.charCodeAt(0)).join(',');
}
