/**
 * URLs and e-mail addresses in free text, HTML links normalised. Text is cut into
 * whitespace-separated tokens and each token (bounded length) is examined on its own, so the
 * work is linear in the text whatever it contains — no unbounded regular expression runs over a
 * whole message. Defanged forms (`hxxp://`, `example[.]com`, `[:]`) are refanged and marked.
 */
import { parse } from 'tldts';
import { BoundedMemo } from '../../core/bounded-memo.ts';
import type { UrlIndicator, UrlSource } from '../analysis-schema.ts';
import { isShortenerOrRedirector } from '../data/shorteners.ts';

/**
 * Public-suffix answers by host name: a message names the same few hosts many times (its images,
 * its tracking links), and every mailbox sees the same senders' hosts. Bounded.
 */
const domainMemo = new BoundedMemo((host: string) => {
  const r = parse(host);
  return { isIp: r.isIp === true, isIcann: r.isIcann === true, domain: r.domain };
});
function parseDomain(host: string): { isIp: boolean; isIcann: boolean; domain: string | null } {
  return domainMemo.get(host);
}

const MAX_TOKEN = 2048;
const MAX_RAW_KEPT = 500;
/** TLDs that are also common file extensions: a bare `invoice.zip` is a file name, not a link. */
const FILE_LIKE_TLDS = new Set([
  'zip',
  'mov',
  'pdf',
  'exe',
  'doc',
  'txt',
  'jpg',
  'png',
  'gif',
  'htm',
  'html',
  'php',
  'asp',
  'js',
  'sh',
  'py',
  'pl',
  'rs',
  'md',
  'so',
  'cc',
  'ai',
]);
const EMAIL_RE = /[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}/g;
const DEFANG_RE = /\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\[:\]|\[\/\]|^hxxp|^hxxps|^h\*\*p|^meow/i;

export interface UrlCandidate {
  raw: string;
  source: UrlSource;
}

/** Characters that end a URL in running text; trailing punctuation is trimmed afterwards. */
function isSeparator(c: number): boolean {
  return c <= 32 || c === 34 || c === 60 || c === 62 || c === 96 || c === 0x7f || c === 0xa0 || c === 0x3000;
}

/** Refangs `hxxp`, `[.]`, `(.)`, `[dot]`, `[:]`; returns null when nothing was defanged. */
export function refang(s: string): string | null {
  if (!DEFANG_RE.test(s)) return null;
  return s
    .replace(/^hxxp/i, 'http')
    .replace(/^h\*\*p/i, 'http')
    .replace(/^meow/i, 'http')
    .replace(/\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)/gi, '.')
    .replace(/\[:\]/g, ':')
    .replace(/\[\/\]/g, '/');
}

function trimToken(t: string): string {
  let s = 0;
  let e = t.length;
  while (s < e && '([{\'"*'.includes(t[s])) s++;
  while (e > s && '.,;:!?)]}\'"*'.includes(t[e - 1])) {
    // Keep a closing bracket that has its opening one inside (Wikipedia-style URLs).
    const c = t[e - 1];
    if (c === ')' && t.slice(s, e).includes('(')) break;
    if (c === ']' && t.slice(s, e).includes('[')) break;
    e--;
  }
  return t.slice(s, e);
}

/** Finds URL and e-mail candidates in plain text. */
export function scanText(text: string, urls: UrlCandidate[], emails: Set<string>, maxEach: number): void {
  const n = text.length;
  let i = 0;
  while (i < n && (urls.length < maxEach || emails.size < maxEach)) {
    while (i < n && isSeparator(text.charCodeAt(i))) i++;
    const start = i;
    while (i < n && !isSeparator(text.charCodeAt(i))) i++;
    if (i - start < 4 || i - start > MAX_TOKEN) continue;
    examineToken(text.slice(start, i), urls, emails, maxEach);
  }
}

function examineToken(token: string, urls: UrlCandidate[], emails: Set<string>, maxEach: number): void {
  if (token.indexOf('.') < 0 && token.indexOf('[') < 0 && token.indexOf('(') < 0) return;
  const lower = token.toLowerCase();
  let at = -1;
  for (const p of [
    'http://',
    'https://',
    'hxxp://',
    'hxxps://',
    'hxxp[:]//',
    'hxxps[:]//',
    'http[:]//',
    'https[:]//',
    'ftp://',
    'www.',
    'www[.]',
  ]) {
    const k = lower.indexOf(p);
    if (k >= 0 && (at < 0 || k < at)) at = k;
  }
  if (at >= 0) {
    const t = trimToken(token.slice(at));
    const fanged = refang(t);
    if (urls.length < maxEach) urls.push({ raw: t, source: fanged === null ? 'text' : 'defanged' });
    return;
  }
  if (token.indexOf('@') >= 0) {
    EMAIL_RE.lastIndex = 0;
    for (let m = EMAIL_RE.exec(token); m !== null; m = EMAIL_RE.exec(token)) {
      if (emails.size >= maxEach) break;
      emails.add(m[0].toLowerCase().replace(/^mailto:/, ''));
    }
    return;
  }
  const t = trimToken(token);
  const fanged = refang(t);
  const candidate = fanged ?? t;
  const slash = candidate.indexOf('/');
  const hostPart = slash < 0 ? candidate : candidate.slice(0, slash);
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}\.[A-Za-z]{2,24}$/.test(hostPart)) return;
  const tld = hostPart.slice(hostPart.lastIndexOf('.') + 1).toLowerCase();
  if (fanged === null && FILE_LIKE_TLDS.has(tld)) return;
  const info = parseDomain(hostPart);
  if (!info.isIcann || !info.domain) return;
  if (urls.length < maxEach) urls.push({ raw: t, source: fanged === null ? 'bare-domain' : 'defanged' });
}

/** Sources that are HTML attribute or CSS references: relative there means relative (HTML §2.4). */
const HTML_REFERENCE: ReadonlySet<UrlSource> = new Set(['html-href', 'html-src', 'html-css', 'form-action']);
/** Sources the reader's client fetches by itself to render the message. */
const RESOURCE: ReadonlySet<UrlSource> = new Set(['html-src', 'html-css']);

/** An absolute http(s) base URL, or null (a relative or other-scheme `<base>` resolves nothing). */
function usableBase(base: string | null): URL | null {
  if (base === null) return null;
  if (lastBase !== null && lastBase.text === base) return lastBase.url;
  let url: URL | null = null;
  try {
    const b = new URL(base.trim());
    url = b.protocol === 'http:' || b.protocol === 'https:' ? b : null;
  } catch {
    url = null;
  }
  // One document resolves all its references against one base: parse it once.
  lastBase = { text: base, url };
  return url;
}
let lastBase: { text: string; url: URL | null } | null = null;

/**
 * Normalises a candidate: refangs, adds `http://` to bare domains in text, parses with WHATWG URL
 * (which lower-cases and punycodes the host), and names the registrable domain. An HTML or CSS
 * reference without a scheme is relative: it is resolved against the document's `<base href>`
 * (`base`), or dropped — `<img src="logo.png">` names a file, never the host `logo.png`. Null when
 * it is not a usable http(s)/ftp URL.
 */
/** A URL parsed (WHATWG), or null when it is none. */
function parsed(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * The site a normalised URL (`UrlIndicator.url`) belongs to, as the analysis keys it: its registrable
 * domain, else its host (an address literal). Null when it is no web URL.
 */
export function siteOfUrl(url: string): string | null {
  const u = parsed(url);
  const host = u?.hostname.replace(/\.$/, '');
  if (!host) return null;
  const info = parseDomain(host);
  return ((info.isIp ? null : info.domain) ?? host).toLowerCase();
}

/**
 * The sites (as given) every URL of which is a user's directory ({@link userDirectoryOf}): a shared web server's,
 * whose domain is its operator's. `sites` pairs each URL with its site (null: none, left out).
 */
export function userDirectorySites(sites: Iterable<{ url: string; site: string | null }>): Set<string> {
  const dirs = new Set<string>();
  const other = new Set<string>();
  for (const { url, site } of sites) if (site !== null) (userDirectoryOf(url) === null ? other : dirs).add(site);
  for (const d of other) dirs.delete(d);
  return dirs;
}

/** `/~name` or `/%7Ename` as a path's first segment: a user directory (Apache's `UserDir`). */
const USER_DIRECTORY = /^\/(?:~|%7e)([^/?#]+)/i;

/**
 * One user's directory on a shared web server (`http://home.attbi.com/~jo/pro.htm` →
 * `home.attbi.com/~jo`), the key a user-directory URL is told apart by; null for any other URL. The
 * server's domain (an ISP's home pages, a university's) is not the user's: two spams linking to two
 * users' pages there are not one sender's, and the domain is not what a blocklist should name.
 */
export function userDirectoryOf(url: string): string | null {
  const u = parsed(url);
  if (u === null || (u.protocol !== 'http:' && u.protocol !== 'https:')) return null;
  const host = u.hostname.replace(/\.$/, '').toLowerCase();
  const m = USER_DIRECTORY.exec(u.pathname);
  if (!host || !m?.[1]) return null;
  let name: string;
  try {
    name = decodeURIComponent(m[1]);
  } catch {
    name = m[1];
  }
  return `${host}/~${name.toLowerCase()}`;
}

export function normaliseUrl(c: UrlCandidate, part: string, base: string | null = null): UrlIndicator | null {
  let s = (refang(c.raw) ?? c.raw).trim();
  if (s.startsWith('//')) s = `${usableBase(base)?.protocol ?? 'http:'}${s}`;
  else if (!/^[a-z][a-z0-9+.-]*:/i.test(s)) {
    if (HTML_REFERENCE.has(c.source)) {
      const b = usableBase(base);
      if (b === null) return null;
      try {
        s = new URL(s, b).href;
      } catch {
        return null;
      }
    } else s = `http://${s}`;
  }
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:' && u.protocol !== 'ftp:') return null;
  const host = u.hostname.replace(/\.$/, '');
  if (!host) return null;
  const info = parseDomain(host);
  const registrableDomain = info.isIp ? null : info.domain;
  if (!info.isIp && !registrableDomain) return null;
  return {
    raw: c.raw.slice(0, MAX_RAW_KEPT),
    url: u.href.slice(0, 4000),
    host,
    registrableDomain,
    shortener: isShortenerOrRedirector(host, registrableDomain, u.pathname),
    source: c.source,
    role: RESOURCE.has(c.source) ? 'resource' : 'link',
    part,
  };
}

/** The registrable domain a piece of anchor text shows, when it looks like a URL or domain. */
export function shownDomain(text: string): string | null {
  const t = text.trim();
  if (t.length < 4 || t.length > 300 || /\s/.test(t)) return null;
  const cand = normaliseUrl({ raw: t, source: 'text' }, '');
  if (!cand) return null;
  if (!/^(https?:\/\/|www\.)/i.test(t) && !/^[a-z0-9-]+(\.[a-z0-9-]+)+(\/\S*)?$/i.test(t)) return null;
  return cand.registrableDomain ?? cand.host;
}
