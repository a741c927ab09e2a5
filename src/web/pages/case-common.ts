/**
 * What the case and referral pages share: who sees which cases (staff all, an authority those
 * referred to it), readable names of states, targets and history entries, form fields, pagers.
 */
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { caseScope } from '../../core/policy.ts';
import type { MessageKey } from '../locales/en.ts';
import type { Translate } from '../i18n.ts';
import { html, type SafeHtml } from '../html.ts';
import { CSRF_FIELD, verifyCsrf, type PageCtx } from '../page.ts';
import { scopeFacts } from './scoped-pages.ts';
import { categoryLabel } from '../components.ts';
import { caseTitle } from '../narrative.ts';

/** The authorities the caller acts for, or null for staff (every case). Refuses a role with no scope. */
export async function pageCaseScope(req: FastifyRequest): Promise<string[] | null> {
  const scope = caseScope(req.principal, await scopeFacts(req));
  if (scope.kind === 'all') return null;
  if (scope.kind === 'none') throw new AppError('FORBIDDEN', 'No authority is attached to your account.');
  return [...scope.authorityIds];
}

/** A form field as one string ('' when absent; the first value when repeated). */
export function field(body: unknown, name: string): string {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : '';
  return typeof v === 'string' ? v : '';
}

/** A repeated form field (checkboxes) as a list. */
export function fields(body: unknown, name: string): string[] {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' && v !== '' ? [v] : [];
}

/** Ids typed or pasted by a person: separated by spaces, commas, semicolons or new lines. */
export function idList(text: string, t: Translate, max = 10_000): string[] {
  const ids = [...new Set(text.split(/[\s,;]+/).filter((s) => s !== ''))];
  const bad = ids.find((s) => !/^[0-9A-Za-z_-]{1,40}$/.test(s));
  if (bad) throw new AppError('BAD_REQUEST', t('case.err.badId', { id: bad.slice(0, 60) }));
  if (ids.length > max) throw new AppError('BAD_REQUEST', t('case.err.tooManyIds', { max, n: ids.length }));
  return ids;
}

/** A refusal of a form, in the reader's language (400: the page says what to change). */
export function badForm(t: Translate, key: MessageKey, params?: Record<string, string | number>): AppError {
  return new AppError('BAD_REQUEST', t(key, params));
}

/** Checks the CSRF token of a posted form (every state-changing page route). */
export function checkForm(req: FastifyRequest): void {
  verifyCsrf(req, field(req.body, CSRF_FIELD));
}

const STATE_KEYS: Record<string, MessageKey> = {
  open: 'case.state.open',
  needs_review: 'case.state.needs_review',
  referred: 'case.state.referred',
  closed: 'case.state.closed',
  merged: 'case.state.merged',
};

export function caseStateLabel(ctx: PageCtx, state: string): string {
  const k = STATE_KEYS[state];
  return k ? ctx.t(k) : state;
}

const TARGET_KEYS: Record<string, MessageKey> = {
  campaign: 'case.target.campaign',
  sender_domain: 'case.target.sender_domain',
  advertised_domain: 'case.target.advertised_domain',
  origin_network: 'case.target.origin_network',
  partner_case: 'case.target.partner_case',
};

export function targetKindLabel(ctx: PageCtx, kind: string): string {
  const k = TARGET_KEYS[kind];
  return k ? ctx.t(k) : kind;
}

const REFERRAL_STATE_KEYS: Record<string, MessageKey> = {
  queued: 'referral.state.queued',
  failed: 'referral.state.failed',
  sent: 'referral.state.sent',
  dead: 'referral.state.dead',
  acknowledged: 'referral.state.acknowledged',
  'more-requested': 'referral.state.more-requested',
  closed: 'referral.state.closed',
};

export function referralStateLabel(ctx: PageCtx, state: string): string {
  const k = REFERRAL_STATE_KEYS[state];
  return k ? ctx.t(k) : state;
}

/** A case's target in words: a campaign by its readable label, a network with its AS prefix. */
export function targetText(
  ctx: PageCtx,
  kind: string,
  value: string,
  campaignNames: ReadonlyMap<string, string>,
): string {
  if (kind === 'campaign') return campaignNames.get(value) ?? ctx.t('case.campaign.unnamed');
  if (kind === 'origin_network') return /^\d+$/.test(value) ? `AS${value}` : value;
  return value;
}

/** A case's title as text (the page's `<title>`): a title the system wrote, in the reader's language. */
export function caseTitleText(ctx: PageCtx, title: string): string {
  return caseTitle(ctx, title, (c) => categoryLabel(ctx, c));
}

/**
 * A case's title on a page: one the system wrote (`narrative.ts` CASE_TITLES), in the reader's
 * language; one a person typed is data, shown as typed and marked `translate="no"`.
 */
export function caseTitleHtml(ctx: PageCtx, title: string): SafeHtml {
  const written = caseTitle({ locale: 'fr' }, title, (c) => c) !== title;
  return written ? html`${caseTitleText(ctx, title)}` : html`<span translate="no">${title}</span>`;
}

/** Who did something, as a person reads it: a rule's name, an account's address, or the command line. */
export function actorText(ctx: PageCtx, actor: string): string {
  if (actor.startsWith('rule:')) return ctx.t('case.actor.rule', { name: actor.slice(5) });
  const m = /^user:[^(]*\(([^)]*)\):/.exec(actor);
  if (m) return m[1];
  const tok = /^token:[^:(]*(?:\(([^)]*)\))?:/.exec(actor);
  if (tok) return ctx.t('case.actor.token', { name: tok[1] ?? '' });
  if (actor === 'system') return ctx.t('case.actor.system');
  return actor;
}

/** The pager of a keyset list: back to the first page, and the next page when there is one. */
export function pager(ctx: PageCtx, base: string, query: string, cursor: string | null, next: string | null): SafeHtml {
  const sep = query ? '&' : '';
  return html`<nav class="pager" aria-label="${ctx.t('case.pages')}">${
    cursor ? html`<a href="${base}${query ? `?${query}` : ''}">${ctx.t('list.first')}</a>` : ''
  }${
    next
      ? html`<a rel="next" href="${base}?${query}${sep}cursor=${encodeURIComponent(next)}">${ctx.t('list.next')}</a>`
      : ''
  }</nav>`;
}

/** The query string of a filter object, blank values left out. */
export function queryOf(values: Record<string, string | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v) p.set(k, v);
  return p.toString();
}
