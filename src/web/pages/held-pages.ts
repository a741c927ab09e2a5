/**
 * The workbench's queue of campaigns the gates hold (`actions/held-campaigns.ts`): campaigns with
 * abusive mail whose messages mix categories or carry legitimate mail, on which nothing leaves
 * automatically until an analyst relabels the odd reports or refers a case by hand. Staff only.
 */
import type { FastifyInstance } from 'fastify';
import { authorize } from '../../core/policy.ts';
import { policyFor } from '../../actions/action-policy.ts';
import { listHeldCampaigns, type HeldCampaign } from '../../actions/held-campaigns.ts';
import { shownShare, type HoldReason } from '../../actions/gates.ts';
import { campaignLabels } from '../../campaigns/label.ts';
import { html, type SafeHtml } from '../html.ts';
import { fmtTime, formatNumber, layout, pageContext, sendPage, type PageCtx } from '../page.ts';
import { categoryLabel, percent } from '../components.ts';

/** Campaigns per page of the queue. */
const HELD_PAGE = 50;
/** The sizes the page offers as a filter (campaigns of at least N messages). */
const SIZES = [1, 2, 5, 10] as const;

/** One hold reason in the reader's language. */
export function holdReasonLabel(ctx: PageCtx, r: HoldReason): string {
  return r.kind === 'legitimate-share'
    ? ctx.t('held.reason.legitimate', { share: percent(ctx, shownShare(r)), max: percent(ctx, r.max) })
    : ctx.t('held.reason.mixed', {
        category: categoryLabel(ctx, r.category),
        purity: percent(ctx, shownShare(r)),
        min: percent(ctx, r.min),
      });
}

function row(ctx: PageCtx, c: HeldCampaign, label: string): SafeHtml {
  return html`<tr data-campaign-id="${c.id}">
<td><a href="/workbench/campaigns/${c.id}" title="${c.id}" translate="no">${label}</a></td>
<td>${categoryLabel(ctx, c.category)}</td>
<td class="num">${formatNumber(ctx, c.messages)}</td>
<td class="num">${formatNumber(ctx, c.reports)}</td>
<td>${c.categories.map(
    (x, i) => html`${i > 0 ? ', ' : ''}${categoryLabel(ctx, x.category)} ${formatNumber(ctx, x.messages)}`,
  )}</td>
<td><ul class="plain">${c.reasons.map((r) => html`<li>${holdReasonLabel(ctx, r)}</li>`)}</ul></td>
<td class="nowrap">${fmtTime(c.lastSeenAt, ctx.locale)}</td>
</tr>`;
}

export async function heldPageRoutes(app: FastifyInstance): Promise<void> {
  const { db, config } = app.ctx;

  app.get<{ Querystring: { before?: string; min?: string } }>('/workbench/held', async (req, reply) => {
    authorize(req.principal, 'workbench:use');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const min = SIZES.find((n) => String(n) === req.query.min) ?? 1;
    const page = await listHeldCampaigns(db, policyFor(config), {
      limit: HELD_PAGE,
      before: typeof req.query.before === 'string' ? req.query.before : null,
      minMessages: min,
    });
    const labels = await campaignLabels(
      db,
      page.rows.map((c) => c.id),
    );
    const sizeLink = (n: number): SafeHtml =>
      n === min
        ? html`<strong>${t('held.min', { n: formatNumber(ctx, n) })}</strong>`
        : html`<a href="/workbench/held?min=${n}">${t('held.min', { n: formatNumber(ctx, n) })}</a>`;
    return sendPage(
      reply,
      layout(
        ctx,
        t('held.title'),
        html`<h1>${t('held.title')}</h1><p class="lead">${t('held.lead')}</p>
<p data-testid="held-total">${t('held.total', { n: formatNumber(ctx, page.total) })} · ${SIZES.map(
          (n, i) => html`${i > 0 ? ' · ' : ''}${sizeLink(n)}`,
        )}</p>
${
  page.rows.length === 0
    ? html`<p class="empty">${t('held.none')}</p>`
    : html`<div class="table-scroll"><table data-testid="held-campaigns"><thead><tr>\
<th scope="col">${t('col.campaign')}</th><th scope="col">${t('col.category')}</th>\
<th scope="col">${t('campaign.messages')}</th><th scope="col">${t('col.reports')}</th>\
<th scope="col">${t('held.categories')}</th><th scope="col">${t('held.why')}</th>\
<th scope="col">${t('held.lastSeen')}</th></tr></thead>
<tbody>${page.rows.map((c) => row(ctx, c, labels.get(c.id) ?? c.id))}</tbody></table></div>`
}
${
  page.next
    ? html`<p><a rel="next" href="/workbench/held?min=${min}&amp;before=${page.next}">${t('held.next')}</a></p>`
    : ''
}`,
        { wide: true },
      ),
    );
  });
}
