/**
 * Opening a case by hand: about a campaign (`/cases/new?campaign=ID`: its readable name, category
 * and every report of the campaign family), or about any target with a selection of reports
 * (`/cases/new?reports=ID,ID`). A campaign that already has a live case is not given a second
 * one: the reports join the live case and the analyst lands on it.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { principalLabel } from '../../core/roles.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { TARGET_KINDS } from '../../actions/action-policy.ts';
import { addReportsToCase, isTargetKind, openCase, LIVE_CASE_STATES } from '../../actions/cases/cases.ts';
import { reportsOfCampaign } from '../../actions/cases/case-view.ts';
import { campaignFamily } from '../../actions/sources.ts';
import { campaignLabels } from '../../campaigns/label.ts';
import type { DB } from '../../db/dialect.ts';
import { html } from '../html.ts';
import { csrfField, layout, pageContext, sendPage } from '../page.ts';
import { categoryLabel } from '../components.ts';
import { loadCampaign } from '../foreign.ts';
import { badForm, checkForm, field, idList, targetKindLabel } from './case-common.ts';
import type { Translate } from '../i18n.ts';

const CATEGORIES = ['phishing', 'malware', 'scam', 'commercial', 'consent', 'other'];

/** The reports named by id with their evidence hash; an unknown id is a 400 naming it. */
export async function reportRefs(db: DB, ids: string[], t: Translate): Promise<{ reportId: string; sha256: string }[]> {
  const out: { reportId: string; sha256: string }[] = [];
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    const rows = await db.selectFrom('reports').select(['id', 'message_sha256']).where('id', 'in', chunk).execute();
    if (rows.length !== chunk.length) {
      const found = new Set(rows.map((r) => r.id));
      const missing = chunk.filter((id) => !found.has(id));
      throw badForm(t, 'case.err.unknownReports', {
        ids: `${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
      });
    }
    out.push(...rows.map((r) => ({ reportId: r.id, sha256: r.message_sha256 })));
  }
  return out;
}

export async function caseNewRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;

  app.get<{ Querystring: { campaign?: string; reports?: string } }>('/cases/new', async (req, reply) => {
    authorize(req.principal, 'case:manage');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const campaignId = (req.query.campaign ?? '').slice(0, 64);
    const campaign = campaignId ? await loadCampaign(db, campaignId) : null;
    if (campaignId && !campaign) throw new AppError('NOT_FOUND', `No campaign ${campaignId}.`);
    const label = campaign ? ((await campaignLabels(db, [campaign.id])).get(campaign.id) ?? null) : null;
    const reports = req.query.reports ? idList(req.query.reports, t) : [];
    const kind = campaign ? 'campaign' : 'sender_domain';
    return sendPage(
      reply,
      layout(
        ctx,
        t('case.new'),
        html`<p class="crumbs"><a href="/cases">${t('cases.all')}</a></p>
<h1>${t('case.new')}</h1>
${
  campaign
    ? html`<p class="lead">${t('case.new.fromCampaign', { name: label ?? campaign.id, n: campaign.reportCount })}</p>`
    : html`<p class="lead">${t('case.new.lead')}</p>`
}
<form class="stack" method="post" action="/cases" data-testid="case-new-form">${csrfField(ctx)}
<label>${t('case.field.targetKind')} <select name="targetKind">${TARGET_KINDS.map(
          (k) => html`<option value="${k}"${k === kind ? html` selected` : ''}>${targetKindLabel(ctx, k)}</option>`,
        )}</select></label>
<label>${t('case.field.target')} <input name="targetValue" required maxlength="300" value="${campaign?.id ?? ''}">\
</label>
<label>${t('col.title')} <input name="title" required maxlength="500" value="${label ?? ''}"></label>
<label>${t('col.category')} <select name="category"><option value="">${t('cat.unclassified')}</option>${CATEGORIES.map(
          (c) =>
            html`<option value="${c}"${campaign?.category === c ? html` selected` : ''}>\
${categoryLabel(ctx, c)}</option>`,
        )}</select></label>
${
  campaign
    ? html`<label class="radio"><input type="checkbox" name="campaignReports" value="1" checked> \
${t('case.field.campaignReports', { n: campaign.reportCount })}</label>`
    : ''
}
<label>${t('case.field.reportIds')} <textarea name="reportIds" rows="5">${reports.join('\n')}</textarea></label>
<button type="submit" class="primary">${t('case.open')}</button>
</form>`,
      ),
    );
  });

  app.post('/cases', async (req, reply) => {
    authorize(req.principal, 'case:manage');
    checkForm(req);
    const { t } = pageContext(req, reply);
    const targetKind = field(req.body, 'targetKind');
    const targetValue = field(req.body, 'targetValue').trim();
    const title = field(req.body, 'title').trim();
    const category = field(req.body, 'category').trim() || null;
    if (!isTargetKind(targetKind)) throw badForm(t, 'case.err.targetKind', { kind: targetKind.slice(0, 40) });
    if (targetValue === '' || targetValue.length > 300) throw badForm(t, 'case.err.target');
    if (title === '' || title.length > 500) throw badForm(t, 'case.err.title');
    if (category && !/^[a-z_-]{1,64}$/.test(category)) throw badForm(t, 'case.err.category');
    const ids = idList(field(req.body, 'reportIds'), t);
    const actor = principalLabel(req.principal);
    const withCampaign = targetKind === 'campaign' && field(req.body, 'campaignReports') === '1';
    const result = await db.transaction().execute(async (trx) => {
      const family = targetKind === 'campaign' ? await campaignFamily(trx, targetValue) : null;
      const refs = await reportRefs(trx, ids, t);
      if (withCampaign && family) refs.push(...(await reportsOfCampaign(trx, family.ids)));
      // One live case per campaign: a second would split the evidence of one operation.
      const live = family
        ? await trx
            .selectFrom('action_cases')
            .selectAll()
            .where('target_kind', '=', 'campaign')
            .where('target_value', 'in', family.ids)
            .where('state', 'in', LIVE_CASE_STATES)
            .orderBy('id')
            .executeTakeFirst()
        : undefined;
      if (live) {
        const added = await addReportsToCase(trx, live.id, refs, actor);
        return { id: live.id, existing: true, added };
      }
      const c = await openCase(trx, {
        targetKind,
        targetValue: family?.root ?? targetValue,
        title,
        category,
        openedBy: actor,
        detail: { via: 'web' },
      });
      const added = await addReportsToCase(trx, c.id, refs, actor);
      return { id: c.id, existing: false, added };
    });
    await writeAudit(db, {
      actor,
      action: result.existing ? 'case.reports-add' : 'case.open',
      subject: `case:${result.id}`,
      ip: req.ip,
      detail: { target: `${targetKind}:${targetValue}`, reports: result.added },
    });
    return reply.redirect(`/cases/${result.id}?done=${result.existing ? 'existing' : 'opened'}`, 303);
  });
}
