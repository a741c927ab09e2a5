/**
 * `/admin/mailhosts`: the mail hosts every report of an intake channel passes — a spam-trap feed's
 * forwarders, the operator's own inbound gateway — declared per channel, with what the trace-back
 * learned for it (`src/analysis/mailhost-routes.ts` checks, stores and audits, as for the API's
 * `PUT /api/v1/intakes/:channel/mailhosts`).
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { CHANNELS, type Channel } from '../../evidence/report-input.ts';
import { mailhostsView } from '../../analysis/mailhost-routes.ts';
import { channelLabel } from '../components.ts';
import { html } from '../html.ts';
import { CSRF_FIELD, layout, pageContext, sendPage, verifyCsrf, type PageCtx } from '../page.ts';
import { declareFromForm, mailhostsSection } from './account-mailhosts.ts';

const field = (b: unknown, k: string): string =>
  b && typeof b === 'object' && typeof (b as Record<string, unknown>)[k] === 'string'
    ? String((b as Record<string, unknown>)[k])
    : '';

export async function adminMailhostRoutes(app: FastifyInstance): Promise<void> {
  const { db, config } = app.ctx;

  async function page(ctx: PageCtx, refused?: { channel: Channel; text: string; error: string }, message?: string) {
    const { t } = ctx;
    const sections = [];
    for (const channel of CHANNELS) {
      const view = await mailhostsView(db, `intake:${channel}`);
      const mine = refused?.channel === channel ? { text: refused.text, error: refused.error } : {};
      sections.push(
        mailhostsSection(ctx, view, mine, {
          action: `/admin/mailhosts/${channel}`,
          id: `intake-${channel}`,
          title: channelLabel(ctx, channel),
          lead: t('admin.mailhosts.channel', { channel }),
        }),
      );
    }
    return layout(
      ctx,
      t('admin.mailhosts'),
      html`<h1>${t('admin.mailhosts')}</h1>
<p>${t('admin.mailhosts.intro')}</p>
${message ? html`<p class="notice" role="status">${message}</p>` : ''}
${sections}`,
    );
  }

  app.get('/admin/mailhosts', async (req, reply) => {
    authorize(req.principal, 'mailhosts:manage-intake');
    return sendPage(reply, await page(pageContext(req, reply)));
  });

  app.post<{ Params: { channel: string } }>('/admin/mailhosts/:channel', async (req, reply) => {
    authorize(req.principal, 'mailhosts:manage-intake');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const channel = CHANNELS.find((c) => c === req.params.channel);
    if (channel === undefined) throw new AppError('NOT_FOUND', 'No such intake channel.');
    const text = field(req.body, 'mailhosts').slice(0, 20_000);
    const ctx = pageContext(req, reply);
    const refused = await declareFromForm(db, config, `intake:${channel}`, text, req.principal, req.ip);
    if (refused !== null) return sendPage(reply, await page(ctx, { channel, text, error: refused }), 400);
    return sendPage(reply, await page(ctx, undefined, ctx.t('account.mailhosts.saved')));
  });
}
