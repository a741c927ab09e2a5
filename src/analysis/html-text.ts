/**
 * HTML → what a reader sees, plus the links it carries, in one linear pass.
 *
 * Spam HTML is hostile (unclosed tags, megabytes of nesting, attributes without quotes), so this
 * is a hand-written scanner with no regular expression over the document: every character is
 * looked at a bounded number of times, whatever the input. It is not a conforming HTML5 parser;
 * it is what the analysis needs: visible text (script, style, head and comments dropped; block
 * elements as line breaks; entities decoded), every href / form action with the text of its
 * anchor, and every resource the reader's client would fetch to render the message: `src` and
 * `srcset` of images and frames, `<script src>`, `<link href>` stylesheets and icons, `background=`,
 * CSS `url()` and `@import` in `style` attributes and `<style>` elements (tracking pixels are
 * images). The first `<base href>` is returned so relative references can be resolved
 * (WHATWG URL; HTML §4.2.3), for the indicators stage.
 */

export interface HtmlLink {
  /** `href`, `form-action`: places the reader is sent; `src`, `css`: resources fetched to render. */
  kind: 'href' | 'src' | 'form-action' | 'css';
  url: string;
  /** Visible text of the anchor (for `href` of `<a>`), bounded. */
  text: string;
}

export interface HtmlText {
  text: string;
  links: HtmlLink[];
  /** The document's first `<base href>`, as written (null when none). */
  base?: string | null;
  /** True when the text was cut at `maxChars`. */
  truncated: boolean;
  formCount: number;
}

const SKIP_CONTENT = new Set(['script', 'style', 'head', 'title', 'noscript', 'template', 'svg', 'xml']);
const BLOCK = new Set([
  'br',
  'p',
  'div',
  'tr',
  'li',
  'ul',
  'ol',
  'table',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'blockquote',
  'section',
  'article',
  'header',
  'footer',
  'hr',
  'pre',
  'center',
  'dd',
  'dt',
  'dl',
  'form',
  'body',
  'html',
]);
const SRC_TAGS = new Set([
  'img',
  'iframe',
  'embed',
  'script',
  'source',
  'frame',
  'input',
  'video',
  'audio',
  'object',
  'track',
]);
/** `<link rel>` values whose target a client fetches to render: stylesheets and icons. */
const FETCHED_LINK_RELS = /\b(?:stylesheet|icon|apple-touch-icon|preload|prefetch|image_src)\b/i;
/** Most CSS references read from one style sheet or attribute. */
const MAX_CSS_URLS = 200;
/** Longest `<style>` content scanned for references. */
const MAX_STYLE_CHARS = 200_000;

/**
 * The references of a piece of CSS: `url(…)` (CSS Values §4.5, quoted or not) and
 * `@import "…"` (CSS Cascade §2). Linear: one pass of `indexOf` over the text.
 */
export function cssUrls(css: string, max = MAX_CSS_URLS): string[] {
  const out: string[] = [];
  const lower = css.toLowerCase();
  let i = 0;
  while (out.length < max) {
    const u = lower.indexOf('url(', i);
    const imp = lower.indexOf('@import', i);
    if (u < 0 && imp < 0) break;
    if (u >= 0 && (imp < 0 || u < imp)) {
      const close = css.indexOf(')', u + 4);
      const end = close < 0 ? css.length : close;
      const v = css
        .slice(u + 4, Math.min(end, u + 4 + 4096))
        .trim()
        .replace(/^['"]|['"]$/g, '')
        .trim();
      if (v.length > 0) out.push(v);
      i = end + 1;
    } else {
      let j = imp + 7;
      while (j < css.length && (css[j] === ' ' || css[j] === '\t' || css[j] === '\n' || css[j] === '\r')) j++;
      const q = css[j];
      if (q === '"' || q === "'") {
        const close = css.indexOf(q, j + 1);
        const v = css.slice(j + 1, close < 0 ? Math.min(css.length, j + 4097) : Math.min(close, j + 4097)).trim();
        if (v.length > 0) out.push(v);
        i = close < 0 ? css.length : close + 1;
      } else i = j; // `@import url(…)`: the url() branch reads it
    }
  }
  return out;
}

/** The URLs of a `srcset` (HTML §4.8.4.3.1): comma-separated candidates `url [descriptor]`. */
function srcsetUrls(v: string): string[] {
  return v
    .split(/,\s+|,(?=\S+\s+\d)/)
    .map((c) => c.trim().split(/\s+/)[0] ?? '')
    .filter((u) => u.length > 0)
    .slice(0, 20);
}
const MAX_LINKS = 2000;
const MAX_ANCHOR_TEXT = 200;

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  copy: '©',
  reg: '®',
  euro: '€',
  pound: '£',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  laquo: '«',
  raquo: '»',
  rsquo: '’',
  lsquo: '‘',
  rdquo: '”',
  ldquo: '“',
  bull: '•',
  middot: '·',
  shy: '',
  zwnj: '',
  zwj: '',
  trade: '™',
  eacute: 'é',
  egrave: 'è',
  agrave: 'à',
  ccedil: 'ç',
  ecirc: 'ê',
  uuml: 'ü',
  ouml: 'ö',
  auml: 'ä',
  szlig: 'ß',
};

/** Decodes character references (`&amp;`, `&#233;`, `&#xE9;`); unknown ones stay as written. */
export function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const amp = s.indexOf('&', i);
    if (amp < 0) {
      out += s.slice(i);
      break;
    }
    out += s.slice(i, amp);
    const semi = s.indexOf(';', amp + 1);
    if (semi < 0 || semi - amp > 12) {
      out += '&';
      i = amp + 1;
      continue;
    }
    const name = s.slice(amp + 1, semi);
    let rep: string | undefined;
    if (name.startsWith('#x') || name.startsWith('#X')) rep = codePoint(parseInt(name.slice(2), 16));
    else if (name.startsWith('#')) rep = codePoint(parseInt(name.slice(1), 10));
    else rep = NAMED[name] ?? NAMED[name.toLowerCase()];
    if (rep === undefined) {
      out += '&';
      i = amp + 1;
    } else {
      out += rep;
      i = semi + 1;
    }
  }
  return out;
}

function codePoint(n: number): string | undefined {
  if (!Number.isFinite(n) || n < 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return undefined;
  return String.fromCodePoint(n);
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12;
}

/** Parses the attributes of one tag (the text between the name and `>`). */
function attributes(src: string): Map<string, string> {
  const attrs = new Map<string, string>();
  let i = 0;
  const n = src.length;
  while (i < n) {
    while (i < n && (isSpace(src.charCodeAt(i)) || src[i] === '/')) i++;
    const start = i;
    while (i < n && !isSpace(src.charCodeAt(i)) && src[i] !== '=' && src[i] !== '/') i++;
    const name = src.slice(start, i).toLowerCase();
    while (i < n && isSpace(src.charCodeAt(i))) i++;
    let value = '';
    if (src[i] === '=') {
      i++;
      while (i < n && isSpace(src.charCodeAt(i))) i++;
      const q = src[i];
      if (q === '"' || q === "'") {
        const end = src.indexOf(q, i + 1);
        value = src.slice(i + 1, end < 0 ? n : end);
        i = end < 0 ? n : end + 1;
      } else {
        const vs = i;
        while (i < n && !isSpace(src.charCodeAt(i))) i++;
        value = src.slice(vs, i);
      }
    }
    if (name && !attrs.has(name)) attrs.set(name, decodeEntities(value).trim());
    if (i === start) i++;
  }
  return attrs;
}

/** Whether a (lower-cased) character may stand in a tag name: `[a-z!?]` first, `[a-z0-9:-]` after. */
function nameChar(c: number, first: boolean): boolean {
  if (c >= 97 && c <= 122) return true;
  return first ? c === 33 || c === 63 : (c >= 48 && c <= 57) || c === 58 || c === 45;
}

/** Index of the `>` closing a tag that opens at `from`, skipping quoted attribute values. */
function tagEnd(html: string, from: number): number {
  let quote = 0;
  for (let i = from; i < html.length; i++) {
    const c = html.charCodeAt(i);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) {
      // A quote only opens inside an attribute value (after '='); stray quotes are text.
      if (html.charCodeAt(i - 1) === 61 || (i > 1 && html.charCodeAt(i - 1) === 32 && html.charCodeAt(i - 2) === 61))
        quote = c;
    } else if (c === 62) return i;
  }
  return -1;
}

/**
 * Where some words occur in a text, found in one pass each, for "does [from, to) contain one?"
 * queries asked in increasing order (the tags of a document): linear overall, however many tags.
 */
class Positions {
  readonly #at: number[] = [];
  #next = 0;

  constructor(text: string, words: readonly string[]) {
    for (const w of words) {
      for (let k = text.indexOf(w); k >= 0 && this.#at.length < 1_000_000; k = text.indexOf(w, k + w.length))
        this.#at.push(k);
    }
    this.#at.sort((a, b) => a - b);
  }

  /** Whether a word starts in [from, to); `from` must not decrease between calls. */
  within(from: number, to: number): boolean {
    while (this.#next < this.#at.length && (this.#at[this.#next] ?? 0) < from) this.#next++;
    const k = this.#at[this.#next];
    return k !== undefined && k < to;
  }
}

/** Renders HTML to visible text (bounded by `maxChars`) and collects its links. */
export function htmlToText(html: string, maxChars: number): HtmlText {
  const lower = html.toLowerCase();
  const links: HtmlLink[] = [];
  let out = '';
  let truncated = false;
  let pendingSpace = false;
  let pendingBreak = false;
  let anchor: { url: string; text: string } | null = null;
  let formCount = 0;
  let base: string | null = null;
  // The head holds no visible text, but its <base>, <link> and <style> matter.
  let inHead = false;

  const emit = (raw: string) => {
    if (inHead) return;
    const t = decodeEntities(raw);
    for (let k = 0; k < t.length; k++) {
      const c = t.charCodeAt(k);
      if (isSpace(c) || c === 0xa0) {
        pendingSpace = true;
        continue;
      }
      if (anchor && anchor.text.length < MAX_ANCHOR_TEXT)
        anchor.text += (pendingSpace && anchor.text ? ' ' : '') + t[k];
      if (out.length >= maxChars) {
        truncated = true;
        pendingSpace = false;
        continue;
      }
      if (pendingBreak && out.length > 0) out += '\n';
      else if (pendingSpace && out.length > 0 && !out.endsWith('\n')) out += ' ';
      pendingBreak = false;
      pendingSpace = false;
      out += t[k];
    }
  };
  const addLink = (kind: HtmlLink['kind'], url: string, text = '') => {
    if (url && links.length < MAX_LINKS) links.push({ kind, url, text });
  };
  const addCss = (css: string) => {
    for (const u of cssUrls(css)) addLink('css', decodeEntities(u));
  };

  const styleRefs = new Positions(lower, ['url(', 'background']);
  let i = 0;
  const n = html.length;
  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      emit(html.slice(i));
      break;
    }
    if (lt > i) emit(html.slice(i, lt));
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end < 0 ? n : end + 3;
      continue;
    }
    const c1 = html.charCodeAt(lt + 1);
    const closing = c1 === 47;
    const nameStart = closing ? lt + 2 : lt + 1;
    let j = nameStart;
    let notTag = false;
    while (j < n) {
      const c = html.charCodeAt(j);
      if (isSpace(c) || c === 62 || c === 47) break;
      // A character the name test below refuses, within the 32 it looks at: not a tag, and no
      // need to scan on (a run of `<<<<…` made this quadratic: minutes for 450 KB).
      if (j - nameStart < 32 && !nameChar(lower.charCodeAt(j), j === nameStart)) {
        notTag = true;
        break;
      }
      j++;
    }
    const name = notTag ? '' : lower.slice(nameStart, j);
    if (notTag || !/^[a-z!?][a-z0-9:-]*$/.test(name.slice(0, 32))) {
      // Not a tag ("a < b"): it is text.
      emit('<');
      i = lt + 1;
      continue;
    }
    const end = tagEnd(html, j);
    if (end < 0) break;
    i = end + 1;
    if (closing) {
      if (name === 'head') inHead = false;
      if (name === 'a' && anchor) {
        const a = anchor;
        anchor = null;
        const last = links.length - 1;
        if (last >= 0 && links[last].url === a.url && links[last].kind === 'href')
          links[last] = { ...links[last], text: a.text };
      }
      if (BLOCK.has(name)) pendingBreak = true;
      continue;
    }
    if (name === 'head') {
      inHead = html.charCodeAt(end - 1) !== 47;
      continue;
    }
    if (name === 'body') inHead = false;
    // Any tag may carry a style attribute with url(…), or a legacy background= image: only tags
    // that contain one of the words are parsed (positions found once per document, see below).
    if (styleRefs.within(j, end)) {
      const attrs = attributes(html.slice(j, end));
      const style = attrs.get('style');
      if (style) addCss(style);
      const bg = attrs.get('background');
      if (bg && !SRC_TAGS.has(name)) addLink('src', bg);
    }
    if (SKIP_CONTENT.has(name)) {
      if (name === 'script' || name === 'svg') {
        const attrs = attributes(html.slice(j, end));
        const src = attrs.get('src') ?? attrs.get('href');
        if (src) addLink('src', src);
      }
      if (html.charCodeAt(end - 1) === 47) continue;
      const close = lower.indexOf(`</${name}`, i);
      if (name === 'style') addCss(html.slice(i, Math.min(close < 0 ? n : close, i + MAX_STYLE_CHARS)));
      i = close < 0 ? n : close;
      continue;
    }
    if (BLOCK.has(name)) pendingBreak = true;
    if (
      name === 'a' ||
      name === 'area' ||
      name === 'form' ||
      name === 'base' ||
      SRC_TAGS.has(name) ||
      name === 'link' ||
      name === 'meta'
    ) {
      const attrs = attributes(html.slice(j, end));
      if (name === 'a' || name === 'area') {
        const href = attrs.get('href');
        if (href) {
          addLink('href', href);
          if (name === 'a') anchor = { url: href, text: '' };
        }
      } else if (name === 'form') {
        formCount++;
        addLink('form-action', attrs.get('action') ?? '');
      } else if (name === 'meta') {
        // <meta http-equiv="refresh" content="0;url=…"> redirects the reader.
        const content = attrs.get('content') ?? '';
        const at = content.toLowerCase().indexOf('url=');
        if ((attrs.get('http-equiv') ?? '').toLowerCase() === 'refresh' && at >= 0)
          addLink('href', content.slice(at + 4).replace(/^['"]|['"]$/g, ''));
      } else if (name === 'base') {
        const href = attrs.get('href');
        if (href && base === null) base = href;
      } else if (name === 'link') {
        const href = attrs.get('href');
        if (href && FETCHED_LINK_RELS.test(attrs.get('rel') ?? '')) addLink('src', href);
      } else {
        const src = attrs.get('src') ?? attrs.get('data') ?? attrs.get('background');
        if (src) addLink('src', src);
        const poster = attrs.get('poster');
        if (poster) addLink('src', poster);
        const srcset = attrs.get('srcset');
        if (srcset) for (const u of srcsetUrls(srcset)) addLink('src', u);
        if (name === 'input' && (attrs.get('formaction') ?? '')) addLink('form-action', attrs.get('formaction') ?? '');
      }
    }
  }
  return { text: out, links, truncated, formCount, base };
}
