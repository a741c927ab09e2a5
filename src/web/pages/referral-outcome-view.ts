/**
 * The outcome of a report on its tracking page, in plain words: "Police cyber unit closed the case
 * on 2 December 2026: …". Only the authority's name, the date and its note (redacted of every
 * reporter of the case) — nothing about the case's other reports or reporters.
 */
import type { ReferralOutcome } from '../../actions/referrals/referral-outcomes.ts';
import { html, type SafeHtml } from '../html.ts';
import type { PageCtx } from '../page.ts';

/** A date as people write it in the page's language, in UTC ("2 December 2026", "2 décembre 2026"). */
export function longDate(ctx: PageCtx, iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(ctx.locale === 'fr' ? 'fr-FR' : 'en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(d);
}

export function outcomeSentence(ctx: PageCtx, o: ReferralOutcome): string {
  const p = { authority: o.authority, date: longDate(ctx, o.at) };
  if (o.kind === 'acknowledged') return ctx.t('referral.outcome.acknowledged', p);
  if (o.kind === 'more-requested') return ctx.t('referral.outcome.more-requested', p);
  return o.note ? ctx.t('referral.outcome.closedNote', { ...p, note: o.note }) : ctx.t('referral.outcome.closed', p);
}

/** The section of the tracking page (nothing when no authority has answered yet). */
export function outcomesSection(ctx: PageCtx, outcomes: readonly ReferralOutcome[]): SafeHtml | '' {
  if (outcomes.length === 0) return '';
  return html`<section class="card" data-testid="track-outcomes"><h2>${ctx.t('referral.outcome.title')}</h2>
<ul class="outcomes">${outcomes.map((o) => html`<li data-kind="${o.kind}">${outcomeSentence(ctx, o)}</li>`)}</ul>
</section>`;
}
