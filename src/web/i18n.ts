/**
 * Locales of the web application. The language comes from `?lang=` (remembered in a cookie), then
 * the cookie, then the signed-in account's choice, then the Accept-Language header; else the
 * instance region's language (a French instance answers a client that names none in French, as its
 * errors do: web/errors.ts), English when no region is given.
 */
import { en, type MessageKey, type Messages } from './locales/en.ts';
import { fr } from './locales/fr.ts';

export const LOCALES = { en, fr } as const satisfies Record<string, Messages>;
export type Locale = keyof typeof LOCALES;
export const DEFAULT_LOCALE: Locale = 'en';
export const LOCALE_COOKIE = 'sd_lang';

export function isLocale(v: unknown): v is Locale {
  return typeof v === 'string' && Object.hasOwn(LOCALES, v);
}

/** A translator bound to one locale. */
export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export function translator(locale: Locale): Translate {
  const messages: Messages = LOCALES[locale];
  return (key, params) => {
    const s = messages[key];
    if (!params) return s;
    return s.replace(/\{(\w+)\}/g, (m, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : m));
  };
}

/** Whether a string names an entry of the catalogues (for labels built from a stored value). */
export function isMessageKey(k: string): k is MessageKey {
  return Object.hasOwn(en, k);
}

/**
 * The label of a stored machine value (`sev.high`, `case.state.open`…): the catalogue entry
 * `prefix.value`, or the value as written when this version has no entry for it.
 */
export function labelOf(t: Translate, prefix: string, value: string): string {
  const key = `${prefix}.${value}`;
  return isMessageKey(key) ? t(key) : value;
}

/** Picks the best locale from an Accept-Language header (RFC 9110 §12.5.4), ignoring weights below 0. */
export function fromAcceptLanguage(header: string | undefined): Locale | null {
  if (!header) return null;
  const ranked = header
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)/.exec(p)).find((m) => m !== null);
      return { lang: tag.trim().toLowerCase().split('-')[0], q: q ? Number(q[1]) : 1 };
    })
    .filter((x) => x.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const r of ranked) if (isLocale(r.lang)) return r.lang;
  return null;
}

export function pickLocale(opts: {
  query?: unknown;
  cookie?: unknown;
  userLocale?: string | null;
  acceptLanguage?: string;
  /** The instance region's language (`regionLanguage(config.region)`). */
  fallback?: Locale;
}): Locale {
  if (isLocale(opts.query)) return opts.query;
  if (isLocale(opts.cookie)) return opts.cookie;
  if (isLocale(opts.userLocale)) return opts.userLocale;
  return fromAcceptLanguage(opts.acceptLanguage) ?? opts.fallback ?? DEFAULT_LOCALE;
}

export type { MessageKey };
