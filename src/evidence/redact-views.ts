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
  view(): View | null {
    return this.decoded ? { text: this.out.join(''), starts: this.starts, ends: this.ends, length: this.n } : null;
  }
}

/** Percent-escapes and HTML character references decoded (code points as their UTF-8 bytes). */
export function percentEntityView(t: string): View | null {
  if (!/%[0-9A-Fa-f]{2}|&#?[A-Za-z0-9]{2,8};?/.test(t)) return null;
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
