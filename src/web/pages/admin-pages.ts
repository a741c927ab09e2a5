/**
 * Administration: its index (accounts, tokens and the registries: `admin-accounts-pages.ts`,
 * `registry-*-pages.ts`) and the audit log (who viewed which evidence, when, from where).
 */
import type { FastifyInstance } from 'fastify';
import { authorize } from '../../core/policy.ts';
import { listAudit } from '../../evidence/audit.ts';
import { html } from '../html.ts';
import type { MessageKey } from '../i18n.ts';
import { fmtTime, layout, pageContext, sendPage } from '../page.ts';

/** The sections of the administration index, in the order an admin sets an instance up. */
const ADMIN_SECTIONS: { href: string; label: MessageKey; lead: MessageKey }[] = [
  { href: '/admin/users', label: 'admin.users', lead: 'admin.users.lead' },
  { href: '/admin/tokens', label: 'admin.tokens', lead: 'admin.tokens.lead' },
  { href: '/admin/authorities', label: 'registry.authorities', lead: 'registry.authorities.lead' },
  { href: '/admin/operators', label: 'registry.operators', lead: 'registry.operators.lead' },
  { href: '/admin/partners', label: 'registry.partners', lead: 'registry.partners.lead' },
  { href: '/admin/senders', label: 'registry.senders', lead: 'registry.senders.lead' },
  { href: '/admin/mailhosts', label: 'admin.mailhosts', lead: 'admin.mailhosts.lead' },
  { href: '/admin/audit', label: 'admin.audit', lead: 'admin.audit.lead' },
];

export async function adminRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;

  app.get('/admin', async (req, reply) => {
    authorize(req.principal, 'user:manage');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    return sendPage(
      reply,
      layout(
        ctx,
        t('admin.title'),
        html`<h1>${t('admin.title')}</h1><ul class="plain admin-index">${ADMIN_SECTIONS.map(
          (sec) => html`<li><a href="${sec.href}">${t(sec.label)}</a> — ${t(sec.lead)}</li>`,
        )}</ul>`,
      ),
    );
  });

  app.get<{ Querystring: { before?: string } }>('/admin/audit', async (req, reply) => {
    authorize(req.principal, 'audit:read');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const before =
      typeof req.query.before === 'string' && /^\d{1,15}$/.test(req.query.before) ? req.query.before : undefined;
    const rows = await listAudit(db, { limit: 200, before });
    const last = rows[rows.length - 1];
    return sendPage(
      reply,
      layout(
        ctx,
        t('admin.audit'),
        html`<p class="crumbs"><a href="/admin">${t('admin.title')}</a></p><h1>${t('admin.audit')}</h1>
<div class="table-scroll"><table data-testid="audit"><thead><tr><th scope="col">#</th><th \
scope="col">${t('col.when')}</th><th scope="col">${t('col.who')}</th><th scope="col">${t('col.action')}</th><th \
scope="col">${t('trc.subject')}</th><th scope="col">IP</th></tr></thead><tbody>
${rows.map(
  (r) => html`<tr><td class="mono">${String(r.seq ?? '')}</td><td class="nowrap">${fmtTime(r.at, ctx.locale)}</td>\
<td translate="no">${r.actor}</td><td class="mono" translate="no">${r.action}</td><td class="mono" \
translate="no">${r.subject}</td><td \
class="mono">${r.ip ?? ''}</td></tr>`,
)}
</tbody></table></div>
${
  rows.length === 200 && last
    ? html`<p><a rel="next" href="/admin/audit?before=${String(last.seq ?? '')}">${t('list.next')}</a></p>`
    : ''
}`,
        { wide: true },
      ),
    );
  });
}
