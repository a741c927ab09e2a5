/**
 * What every page needs: the locale, the caller, a CSRF token, the layout (skip link, navigation
 * by permission, language switcher) and the security headers.
 */
import { regionLanguage } from '../core/languages.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../core/config.ts';
import { AppError } from '../core/errors.ts';
import { randomSecret } from '../core/ids.ts';
import { can } from '../core/policy.ts';
import type { Principal } from '../core/roles.ts';
import type { Account } from '../db/accounts.ts';
import { html, raw, type HtmlValue, type SafeHtml } from './html.ts';
import { LOCALES, LOCALE_COOKIE, isLocale, pickLocale, translator, type Locale, type Translate } from './i18n.ts';
import { requestCookies, requestSession } from './session-auth.ts';

export const CSRF_COOKIE = 'sd_csrf';
export const CSRF_FIELD = '_csrf';

/** Content-Security-Policy of every application page: our own scripts and styles only. */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface PageCtx {
  t: Translate;
  locale: Locale;
  principal: Principal;
  account: Account | null;
  csrf: string;
  /** Path and query of the current request (for the language switcher). */
  url: string;
  config: Config;
}

/** True when cookies must carry `Secure`. */
export function cookieSecure(config: Config): boolean {
  if (config.webCookieSecure === 'true') return true;
  if (config.webCookieSecure === 'false') return false;
  return (config.publicUrl ?? '').startsWith('https://');
}

export function pageContext(req: FastifyRequest, reply: FastifyReply): PageCtx {
  const { config } = req.server.ctx;
  const cookies = requestCookies(req);
  const query = req.query && typeof req.query === 'object' ? (req.query as Record<string, unknown>) : {};
  const rs = requestSession(req);
  const locale = pickLocale({
    query: query.lang,
    cookie: cookies[LOCALE_COOKIE],
    userLocale: rs?.account.locale,
    acceptLanguage: req.headers['accept-language'],
    fallback: regionLanguage(config.region),
  });
  if (isLocale(query.lang) && cookies[LOCALE_COOKIE] !== query.lang) {
    void reply.setCookie(LOCALE_COOKIE, query.lang, {
      path: '/',
      sameSite: 'lax',
      httpOnly: true,
      secure: cookieSecure(config),
      maxAge: 365 * 86400,
    });
  }
  let csrf = rs?.session.csrfToken ?? cookies[CSRF_COOKIE];
  if (!csrf || csrf.length < 20 || csrf.length > 64) {
    csrf = randomSecret(24);
    void reply.setCookie(CSRF_COOKIE, csrf, {
      path: '/',
      sameSite: 'lax',
      httpOnly: true,
      secure: cookieSecure(config),
    });
  }
  return {
    t: translator(locale),
    locale,
    principal: req.principal,
    account: rs?.account ?? null,
    csrf,
    url: req.url,
    config,
  };
}

/**
 * Synchroniser-token check for every state-changing form: the session's token when signed in,
 * otherwise the double-submit cookie (the token is in an HttpOnly cookie and in the form).
 */
export function verifyCsrf(req: FastifyRequest, provided: unknown): void {
  const rs = requestSession(req);
  const expected = rs?.session.csrfToken ?? requestCookies(req)[CSRF_COOKIE];
  if (
    typeof provided !== 'string' ||
    !expected ||
    provided.length !== expected.length ||
    !timingSafeEqual(Buffer.from(provided), Buffer.from(expected))
  ) {
    throw new AppError('FORBIDDEN', 'The form token (CSRF) is missing or wrong; reload the page and try again.', {
      csrf: true,
    });
  }
}

export function csrfField(ctx: PageCtx): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${ctx.csrf}">`;
}

function langUrl(url: string, lang: Locale): string {
  const [path, qs = ''] = url.split('?');
  const params = new URLSearchParams(qs);
  params.set('lang', lang);
  return `${path}?${params.toString()}`;
}

interface NavItem {
  href: string;
  label: string;
}

function navItems(ctx: PageCtx): NavItem[] {
  const { t, principal: p } = ctx;
  const items: NavItem[] = [
    { href: '/report', label: t('nav.report') },
    { href: '/report/sms', label: t('nav.sms') },
    { href: '/stats', label: t('nav.stats') },
    { href: '/rules', label: t('nav.rules') },
  ];
  if (can(p, 'workbench:use'))
    items.push(
      { href: '/workbench', label: t('nav.dashboard') },
      { href: '/workbench/reports', label: t('nav.reports') },
      { href: '/workbench/held', label: t('nav.held') },
    );
  if (can(p, 'dead-letter:read')) items.push({ href: '/workbench/dead-letters', label: t('nav.deadletters') });
  if (can(p, 'listing:manage')) items.push({ href: '/workbench/delistings', label: t('listing.nav') });
  if (can(p, 'report:read-network')) items.push({ href: '/network', label: t('nav.network') });
  if (can(p, 'case:read')) items.push({ href: '/cases', label: t('nav.cases') });
  if (can(p, 'monthly-report:read')) items.push({ href: '/monthly-report', label: t('monthly.nav') });
  if (can(p, 'referral:answer') && !can(p, 'case:manage')) items.push({ href: '/referrals', label: t('referral.nav') });
  if (can(p, 'user:manage')) items.push({ href: '/admin', label: t('nav.admin') });
  return items;
}

export interface LayoutOptions {
  /** Extra scripts from /static (CSP forbids inline scripts). */
  scripts?: string[];
  /** Wider layout for the workbench. */
  wide?: boolean;
}

/** The whole HTML document. */
export function layout(ctx: PageCtx, title: string, body: HtmlValue, opts: LayoutOptions = {}): string {
  const { t } = ctx;
  const signedIn = ctx.principal.kind !== 'anonymous';
  const doc = html`<!doctype html>
<html lang="${ctx.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${t('app.name')}</title>
<link rel="stylesheet" href="/static/app/app.css">
${(opts.scripts ?? []).map((s) => html`<script src="${s}" defer></script>`)}
</head>
<body>
<a class="skip" href="#main">${t('nav.skip')}</a>
<header class="site">
  <div class="bar ${opts.wide ? 'wide' : ''}">
    <a class="brand" href="/">${t('app.name')}</a>
    <nav aria-label="${t('nav.main')}">
      <ul>${navItems(ctx).map((i) => html`<li><a href="${i.href}">${i.label}</a></li>`)}</ul>
    </nav>
    <div class="tools">
      ${
        signedIn
          ? html`<a href="/account">${t('nav.account')}</a>
      <form method="post" action="/logout" class="inline">${csrfField(ctx)}<button type="submit" \
class="link">${t('nav.logout')}</button></form>`
          : html`<a href="/login">${t('nav.login')}</a>`
      }
      <span class="langs" role="group" aria-label="${t('nav.language')}">${(Object.keys(LOCALES) as Locale[]).map(
        (l) =>
          l === ctx.locale
            ? html`<strong lang="${l}" aria-current="true">${LOCALES[l]['lang.name']}</strong>`
            : html`<a lang="${l}" hreflang="${l}" href="${langUrl(ctx.url, l)}">${LOCALES[l]['lang.name']}</a>`,
      )}</span>
    </div>
  </div>
</header>
<main id="main" class="${opts.wide ? 'wide' : ''}" tabindex="-1">
${body}
</main>
<footer class="site"><p>${t('footer.text')}</p>
<p><a href="/protect">${t('nav.protect')}</a> · <a href="/complain">${t('nav.complain')}</a> · <a \
href="/guide">${t('nav.guide')}</a></p></footer>
</body>
</html>`;
  return doc.value;
}

/** Sends a page with the application's security headers. */
export function sendPage(reply: FastifyReply, doc: string, status = 200): FastifyReply {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', PAGE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('cache-control', 'no-store')
    .send(doc);
}

/** An error page (HTML) for a failed page request. */
export function errorPage(ctx: PageCtx, message: string): string {
  return layout(
    ctx,
    ctx.t('error.title'),
    html`<h1>${ctx.t('error.title')}</h1><p role="alert">${message}</p><p><a href="/">${ctx.t('error.back')}</a></p>`,
  );
}

const TIME_FORMATS = new Map<Locale, Intl.DateTimeFormat>();

/**
 * Formats an ISO timestamp for display, in UTC to the minute: `2026-11-23 10:00 UTC` in English
 * (unambiguous for an international reader), `23/11/2026 10:00 UTC` in French (`Intl`, fr-FR).
 * A value that is not a date is shown as written.
 */
export function fmtTime(iso: string | null | undefined, locale: Locale = 'en'): string {
  if (!iso) return '';
  const ms = Date.parse(iso);
  if (locale === 'en' || Number.isNaN(ms)) return `${iso.replace('T', ' ').slice(0, 16)} UTC`;
  let f = TIME_FORMATS.get(locale);
  if (!f) {
    f = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'short', timeStyle: 'short', timeZone: 'UTC' });
    TIME_FORMATS.set(locale, f);
  }
  return `${f.format(ms)} UTC`;
}

/** A whole number for the reader (fr-FR groups thousands with a narrow no-break space). */
export function formatNumber(ctx: { locale: Locale }, n: number): string {
  return new Intl.NumberFormat(ctx.locale === 'fr' ? 'fr-FR' : 'en-GB').format(n);
}

export { raw };
