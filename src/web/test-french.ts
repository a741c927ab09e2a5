/**
 * Test support for French throughout (issue 18): what a reader reads of a page, and the English
 * left in a French page — strings of the English catalogue, or English sentences the English
 * rendering shows too. Used by `french-pages.test.ts` (every page, rendered by the app) and by the
 * end-to-end tests in Chromium (each page a role visits, as the browser shows it).
 *
 * Data is marked `translate="no"` on the pages (headers, addresses, subjects, evidence): the checks
 * read everything else, attributes people read included (title, aria-label, placeholder, alt).
 */
import { Parser } from 'htmlparser2';
import { en } from './locales/en.ts';

/**
 * Entries that are the same word in both languages, each with why. Anything else equal in both
 * catalogues is an untranslated string.
 */
export const SAME_IN_BOTH: Readonly<Record<string, string>> = {
  'app.name': 'the product’s name',
  'nav.admin': '« Administration » is the French word too',
  'admin.title': '« Administration » is the French word too',
  'campaign.messages': '« Messages » is the French word too',
  'col.action': '« Action » is the French word too',
  'case.detail.note': '« Note » is the French word too',
  'case.detail.messages': '« Messages » is the French word too',
  'case.detail.action': '« Action » is the French word too',
  'case.detail.messageId': 'the header’s name',
  'dead.source': '« Source » is the French word too',
  'list.url': 'URL is the term in French (Journal officiel: « adresse universelle », not used in practice)',
  'detail.sms': 'SMS is the term in French',
  'ch.sms': 'SMS is the term in French',
  'ch.api': 'API is the term in French',
  'trd.code': '« Code » is the French word too',
  'trd.type': '« Type » is the French word too',
  'trd.source.html-css': 'CSS is the term in French',
  'trc.msgkind.sms': 'SMS is the term in French',
  'listing.messages': '« Messages » is the French word too',
  'referral.preview.messages': '« Messages » is the French word too',
  'listing.desk.contact': '« Contact » is the French word too',
  'registry.contact': '« Contact » is the French word too',
  'listing.desk.note': '« Note » is the French word too',
  'case.annotate.note': '« Note » is the French word too',
  'case.ev.annotated': '« Note » is the French word too',
  'referral.answer.note': '« Note » is the French word too',
  'case.actions': '« Actions » is the French word too',
};

/** Every region's name in French (`Intl.DisplayNames`), single words only. */
const FRENCH_COUNTRY_NAMES: string[] = (() => {
  const names = new Intl.DisplayNames(['fr'], { type: 'region' });
  const out: string[] = [];
  for (let a = 65; a <= 90; a++)
    for (let b = 65; b <= 90; b++) {
      const code = String.fromCharCode(a, b);
      try {
        const n = names.of(code);
        if (n && n !== code) out.push(...n.split(/\s+/));
      } catch {
        // not a region code
      }
    }
  return out;
})();

/** Text that reads the same in both languages wherever it appears on a page (protocols, units, names). */
const NEUTRAL = new Set([
  'Spamdesk',
  'SMTP',
  'ESMTP',
  'POP3',
  'IMAP',
  'HTTP',
  'HTTPS',
  'HTML',
  'SPF',
  'DKIM',
  'DMARC',
  'ARC',
  'TLS',
  'SMS',
  'API',
  'URL',
  'CSV',
  'JSON',
  'PDF',
  'SHA-256',
  'ASN',
  'IP',
  'UTC',
  'English',
  'Français',
  'Authentication-Results',
  // mail clients the guide names
  'Gmail',
  'Outlook',
  'Thunderbird',
  'Apple',
  'Mail',
  'Yahoo',
  // country names that French writes as English does
  ...FRENCH_COUNTRY_NAMES,
]);

export interface PageText {
  /** Visible text nodes and read attributes, outside `translate="no"`, script, style, pre, code. */
  texts: string[];
  /** Elements marked as English that no template could translate. */
  untranslated: string[];
}

const SKIP_ELEMENTS = new Set(['script', 'style', 'pre', 'code', 'textarea', 'kbd', 'samp']);
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'wbr']);
const READ_ATTRIBUTES = ['title', 'aria-label', 'placeholder', 'alt'];

/** What a reader reads of a page (htmlparser2, the parser sanitize-html uses). */
export function readableText(doc: string): PageText {
  const texts: string[] = [];
  const untranslated: string[] = [];
  const stack: boolean[] = [];
  let pageLang = '';
  // htmlparser2 hands one text node over in pieces, split at entities (`&nbsp;`, `&quot;`, as a
  // browser serialises a page): joined until the next tag, so a sentence is read whole.
  let pending = '';
  const flush = () => {
    texts.push(pending);
    pending = '';
  };
  const skipping = () => stack.includes(true);
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        flush();
        if (name === 'html') pageLang = attrs.lang ?? '';
        if (attrs['data-untranslated'] !== undefined) untranslated.push(name);
        // Data (translate="no") and text declared in another language (the language switcher).
        const skip =
          SKIP_ELEMENTS.has(name) ||
          attrs.translate === 'no' ||
          (name !== 'html' &&
            attrs.lang !== undefined &&
            attrs.lang !== pageLang &&
            attrs['data-untranslated'] === undefined);
        if (!skipping() && !skip) {
          for (const a of READ_ATTRIBUTES) if (attrs[a]) texts.push(attrs[a]);
          if (name === 'input' && (attrs.type === 'submit' || attrs.type === 'button') && attrs.value)
            texts.push(attrs.value);
        }
        if (!VOID.has(name)) stack.push(skip);
      },
      onclosetag(name, implied) {
        flush();
        if (!VOID.has(name) && !(implied && VOID.has(name))) stack.pop();
      },
      ontext(text) {
        if (!skipping()) pending += text;
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(doc);
  parser.end();
  flush();
  return { texts: texts.map((s) => s.replace(/\s+/g, ' ').trim()).filter((s) => s !== ''), untranslated };
}

/** The literal pieces of an English entry (its parameters removed), long enough to mean something. */
function englishPieces(): { key: string; piece: string }[] {
  const out: { key: string; piece: string }[] = [];
  for (const [key, v] of Object.entries(en)) {
    if (Object.hasOwn(SAME_IN_BOTH, key)) continue;
    for (const piece of v.split(/\{\w+\}/)) {
      const p = piece.trim();
      // One word alone ("Received", "Campaign") is matched as a whole text; longer pieces anywhere.
      if (/[A-Za-z]{2,}/.test(p)) out.push({ key, piece: p });
    }
  }
  return out;
}

/** English catalogue strings present in the French page's readable text. */
export function englishCatalogueIn(texts: string[]): string[] {
  const found: string[] = [];
  for (const { key, piece } of englishPieces()) {
    const oneWord = !/\s/.test(piece);
    const hit = oneWord ? texts.some((t) => t === piece) : texts.some((t) => t.includes(piece));
    if (hit) found.push(`${key}: "${piece}"`);
  }
  return found;
}

/** Text nodes of the French page that the English page shows too and that hold English words. */
export function sameEnglishTexts(frTexts: string[], enTexts: string[]): string[] {
  const enSet = new Set(enTexts);
  const same = new Set(Object.keys(SAME_IN_BOTH).map((k) => en[k as keyof typeof en]));
  const neutral = (t: string) =>
    same.has(t) ||
    !/[A-Za-z]{3,}/.test(
      t
        .split(/[\s·—–:;,()/]+/)
        .filter((w) => !NEUTRAL.has(w) && !same.has(w))
        .join(' '),
    );
  return [...new Set(frTexts.filter((t) => enSet.has(t) && !neutral(t) && !/^[\w.-]+@[\w.-]+$/.test(t)))];
}
