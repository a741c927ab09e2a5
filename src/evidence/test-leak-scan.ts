/**
 * Test support for the leak test: an independent reader that looks for the planted identity in
 * an artefact. It does not use the redactor's code: it parses mail with postal-mime, opens ZIPs,
 * walks JSON, and decodes every layer an identity could hide in (percent-escapes, `+`, HTML
 * character references, quoted-printable, base64 and base64url runs at every offset), then
 * searches every decoded text for every form of the identity.
 */
import { createHash } from 'node:crypto';
import PostalMime, { type Email } from 'postal-mime';
import { readZipEntries } from '../actions/referrals/evidence-package.ts';
import { LEAK_ADDRESS, LEAK_ADDRESS_ASCII, LEAK_DOMAIN, LEAK_DOMAIN_ASCII } from './test-leak-plant.ts';

export type ArtefactKind = 'mail' | 'zip' | 'json' | 'text';

export interface Artefact {
  /** Where it comes from, e.g. `outbox:referral:… → police (email)`. */
  name: string;
  /** Who receives or sees it. */
  audience: string;
  kind: ArtefactKind;
  bytes: Buffer;
  /**
   * ZIP entries that may name the reporter by design: the byte-exact originals an authority
   * entitled to them receives (evidence mode `original-and-redacted`).
   */
  exempt?: (path: string) => boolean;
}

export interface Leak {
  artefact: string;
  /** Where inside it: `zip:summary.json › json:messages[3].subject › base64@2`. */
  where: string;
  form: string;
  excerpt: string;
}

interface Form {
  name: string;
  test: (text: string, lower: string) => number;
}

const hex = (algo: string, s: string): string => createHash(algo).update(s, 'utf8').digest('hex');

function literal(name: string, needle: string): Form {
  const n = needle.toLowerCase();
  return { name, test: (_t, lower) => lower.indexOf(n) };
}

function pattern(name: string, re: RegExp): Form {
  return { name, test: (t) => t.search(re) };
}

/** Every form of the identity, searched in every decoded layer. */
function buildForms(): Form[] {
  const forms: Form[] = [
    literal('address', LEAK_ADDRESS),
    literal('address (punycode)', LEAK_ADDRESS_ASCII),
    literal('local part', 'lea.martin'),
    literal('own mail domain', LEAK_DOMAIN),
    literal('own mail domain (punycode)', LEAK_DOMAIN_ASCII),
    pattern('name', /l[eé]a[\s,+_]*martin|martin[\s,+_]*l[eé]a/i),
    // Word boundaries exclude base64's `+` and `/` too: "…+LEa/…" inside a base64 body is not a name.
    pattern('first name', /(?<![\p{L}\p{N}+/])l[eéÉ]a(?![\p{L}\p{N}+/])/iu),
    pattern('surname', /(?<![\p{L}\p{N}+/])martin(?![\p{L}\p{N}+/])/iu),
    {
      name: 'phone number',
      test: (t) => t.replace(/[\s.\-()/]/g, '').search(/(?<!\d)(?:\+33|0033|0)?612345678(?!\d)/),
    },
  ];
  for (const a of [LEAK_ADDRESS, LEAK_ADDRESS_ASCII]) {
    for (const v of new Set([a, a.toUpperCase(), a.replace(/^./, (c) => c.toUpperCase())])) {
      for (const algo of ['md5', 'sha1', 'sha256'])
        forms.push(literal(`${algo} of ${v === a ? 'the address' : 'a case variant'}`, hex(algo, v)));
    }
    forms.push(literal('hex of the address', Buffer.from(a, 'utf8').toString('hex')));
    // Base64 fragments fully determined by the address at each alignment (both alphabets).
    for (let k = 0; k < 3; k++) {
      const bytes = Buffer.from(a, 'utf8');
      const enc = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
      const first = Math.ceil(k / 3);
      const last = Math.floor((k + bytes.length) / 3) - 1;
      const frag = enc.slice(first * 4, (last + 1) * 4);
      for (const f of new Set([frag, frag.replace(/\+/g, '-').replace(/\//g, '_')]))
        forms.push({ name: `base64 of the address (alignment ${k})`, test: (t) => t.indexOf(f) });
    }
  }
  return forms;
}

const FORMS = buildForms();
/** Names of the forms searched (for the report). */
export const SCANNED_FORMS = [...new Set(FORMS.map((f) => f.name))];

/** Deepest decoding recursion (base64 inside JSON inside a ZIP inside a mail…). */
const MAX_DEPTH = 6;
/** Base64 runs shorter than this are not decoded (too short to hide an address). */
const MIN_RUN = 12;

/**
 * A run this long of base64's alphabet (no `%`, no `&`, no space) is base64, not a form-encoded phrase: read as a form
 * its `+` become spaces and a random `+lea+` reads as the first name (the full suite failed once so, on a DKIM
 * signature or a zip's base64 in an outgoing mail). Base64 is decoded on its own path below.
 */
const BASE64_LINE = /[A-Za-z0-9+/]{40,}={0,2}/g;

function decodePercent(s: string, plus: boolean): string {
  const t = plus ? s.replace(/\+/g, ' ') : s;
  return t.replace(/(?:%[0-9A-Fa-f]{2})+/g, (m) => {
    try {
      return decodeURIComponent(m);
    } catch {
      return Buffer.from(m.replace(/%/g, ''), 'hex').toString('latin1');
    }
  });
}

const NAMED: Record<string, string> = {
  commat: '@',
  period: '.',
  eacute: 'é',
  Eacute: 'É',
  nbsp: ' ',
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  hyphen: '-',
  lowbar: '_',
  plus: '+',
};

function decodeEntities(s: string): string {
  return s
    .replace(/&#x([0-9a-f]{1,6});?/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d{1,7});?/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&([A-Za-z]+);/g, (m, n: string) => NAMED[n] ?? m);
}

/**
 * The text as a reader or a script sees it: compatibility forms folded (fullwidth letters, NFKC), invisible characters,
 * hidden elements and tags left out, line folds undone, script escapes and `String.fromCharCode` calls evaluated.
 */
function asRead(s: string): string {
  return (
    s
      .normalize('NFKC')
      .replace(/[\u200b-\u200d\u2060\ufeff\u00ad]/g, '')
      // An element a browser does not show, then the tags (their quoted attribute values may hold `>`).
      .replace(/<(span|font|b|i)\b[^>]{0,300}(?:display\s*:\s*none|\shidden\b)[^>]{0,300}>[^<]{0,300}<\/\1>/gi, '')
      .replace(/<(?:[^<>"']|"[^"]{0,300}"|'[^']{0,300}'){0,300}>/g, '')
      .replace(/\r?\n[ \t]/g, '')
      .replace(/\\x([0-9a-f]{2})|\\u([0-9a-f]{4})/gi, (_m, x?: string, u?: string) =>
        String.fromCharCode(parseInt(x ?? u ?? '', 16)),
      )
      .replace(/fromCharCode\(([\d\s,]+)\)/g, (_m, list: string) =>
        list
          .split(',')
          .map((n) => String.fromCharCode(Number(n)))
          .join(''),
      )
  );
}

function decodeQp(s: string): string {
  if (!/=[0-9A-F]{2}|=\r?\n/i.test(s)) return s;
  const bytes = Buffer.from(s.replace(/=\r?\n/g, ''), 'utf8')
    .toString('latin1')
    .replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

export class LeakScanner {
  readonly leaks: Leak[] = [];
  /** Decoded texts searched (for the report). */
  layers = 0;

  async scan(a: Artefact): Promise<void> {
    await this.visit(a, a.kind, a.bytes, a.kind, 0);
  }

  private found(a: Artefact, where: string, text: string): void {
    this.layers++;
    const lower = text.toLowerCase();
    for (const f of FORMS) {
      const at = f.test(text, lower);
      if (at >= 0)
        this.leaks.push({
          artefact: `${a.name} (${a.audience})`,
          where,
          form: f.name,
          excerpt: text.slice(Math.max(0, at - 40), at + 60).replace(/\s+/g, ' '),
        });
    }
  }

  private async visit(a: Artefact, kind: ArtefactKind, bytes: Buffer, where: string, depth: number): Promise<void> {
    if (depth > MAX_DEPTH) return;
    if (kind === 'zip') {
      let entries: Map<string, Buffer>;
      try {
        entries = await readZipEntries(bytes);
      } catch {
        await this.text(a, bytes.toString('latin1'), `${where} (unreadable zip)`, depth);
        return;
      }
      for (const [path, data] of entries) {
        if (a.exempt?.(path)) continue;
        const k: ArtefactKind = path.endsWith('.eml') ? 'mail' : path.endsWith('.json') ? 'json' : 'text';
        await this.visit(a, k, data, `${where} › ${path}`, depth + 1);
      }
      return;
    }
    if (kind === 'mail') {
      await this.text(a, bytes.toString('utf8'), `${where} (raw)`, depth);
      let email: Email;
      try {
        email = await PostalMime.parse(bytes, {
          attachmentEncoding: 'arraybuffer',
          forceRfc822Attachments: true,
          maxNestingDepth: 20,
        });
      } catch {
        return;
      }
      for (const h of email.headers) await this.text(a, h.value, `${where} › header ${h.key}`, depth);
      await this.text(a, email.subject ?? '', `${where} › subject`, depth);
      await this.text(a, email.text ?? '', `${where} › text`, depth);
      await this.text(a, email.html ?? '', `${where} › html`, depth);
      for (const [i, att] of email.attachments.entries()) {
        const data = Buffer.from(
          typeof att.content === 'string' ? Buffer.from(att.content) : new Uint8Array(att.content),
        );
        const k: ArtefactKind =
          att.mimeType === 'message/rfc822' || att.mimeType === 'message/global'
            ? 'mail'
            : att.mimeType === 'application/zip' || data.subarray(0, 2).toString('latin1') === 'PK'
              ? 'zip'
              : att.mimeType.includes('json')
                ? 'json'
                : 'text';
        await this.text(a, att.filename ?? '', `${where} › attachment ${i} name`, depth);
        await this.visit(a, k, data, `${where} › attachment ${i} (${att.mimeType})`, depth + 1);
      }
      return;
    }
    if (kind === 'json') {
      const text = bytes.toString('utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        await this.text(a, text, where, depth);
        return;
      }
      await this.json(a, parsed, where, depth);
      return;
    }
    await this.text(a, bytes.toString('utf8'), where, depth);
  }

  private async json(a: Artefact, v: unknown, where: string, depth: number): Promise<void> {
    if (typeof v === 'string') {
      // A large base64 value is a file (a package, a sample): open it.
      if (v.length > 1000 && /^[A-Za-z0-9+/=\r\n]+$/.test(v)) {
        const data = Buffer.from(v, 'base64');
        const k: ArtefactKind =
          data.subarray(0, 2).toString('latin1') === 'PK'
            ? 'zip'
            : /^[\x20-\x7e\r\n\t]{0,200}:/.test(data.subarray(0, 200).toString('latin1'))
              ? 'mail'
              : 'text';
        await this.visit(a, k, data, `${where} (base64 ${k})`, depth + 1);
        return;
      }
      await this.text(a, v, where, depth);
      return;
    }
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) await this.json(a, x, `${where}[${i}]`, depth);
      return;
    }
    if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        await this.text(a, k, `${where}.${k} (key)`, depth);
        await this.json(a, x, `${where}.${k}`, depth);
      }
    }
  }

  /** One text and every layer decoded from it. */
  private async text(a: Artefact, t: string, where: string, depth: number): Promise<void> {
    if (t.length === 0) return;
    const seen = new Set<string>();
    const views: [string, string][] = [[where, t]];
    const push = (label: string, s: string): void => {
      if (s !== t && !seen.has(s)) {
        seen.add(s);
        views.push([`${where} › ${label}`, s]);
      }
    };
    push('percent-decoded', decodePercent(t, false));
    push('form-decoded', decodePercent(t.replace(BASE64_LINE, ' '), true));
    push('entities', decodeEntities(t));
    push('entities+percent', decodePercent(decodeEntities(t), false));
    push('quoted-printable', decodeQp(t));
    push('as read', asRead(decodeEntities(t)));
    for (const [label, s] of views) this.found(a, label, s);
    if (depth >= MAX_DEPTH) return;
    // Base64 and base64url runs, decoded from each of the four offsets.
    for (const run of new Set(t.match(new RegExp(`[A-Za-z0-9+/_-]{${MIN_RUN},}={0,2}`, 'g')) ?? [])) {
      if (run.length > 4_000_000) continue;
      for (let off = 0; off < 4; off++) {
        const data = Buffer.from(run.slice(off).replace(/-/g, '+').replace(/_/g, '/'), 'base64');
        if (data.length < 6) continue;
        if (data.subarray(0, 2).toString('latin1') === 'PK') {
          await this.visit(a, 'zip', data, `${where} › base64@${off} zip`, depth + 1);
          continue;
        }
        // Text, not random bytes: valid UTF-8 or legacy 8-bit, almost all printable.
        const utf8 = data.toString('utf8');
        const latin = data.toString('latin1');
        const ascii = latin.replace(/[^\x20-\x7e\r\n\t]/g, '').length / latin.length;
        const validUtf8 =
          !utf8.includes('\ufffd') && utf8.replace(/[\p{C}]/gu, '').length / Math.max(1, [...utf8].length) > 0.95;
        if (validUtf8) {
          this.found(a, `${where} › base64@${off}`, utf8);
          this.found(a, `${where} › base64@${off} percent-decoded`, decodePercent(utf8, true));
        } else if (ascii > 0.9) this.found(a, `${where} › base64@${off} latin1`, latin);
      }
    }
  }
}
