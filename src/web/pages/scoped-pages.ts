/**
 * Pages whose rows are scoped by the policy module: authorities see only cases referred to them
 * (network operators' pages are in network-pages.ts); and the scope facts of a caller.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize, caseScope, type ScopeFacts } from '../../core/policy.ts';
import { html } from '../html.ts';
import { fmtTime, layout, pageContext, sendPage } from '../page.ts';
import { requestSession } from '../session-auth.ts';
import { categoryLabel } from '../components.ts';
import { labelOf } from '../i18n.ts';
import { caseTitle } from '../narrative.ts';
import { asnsOfUser, authorityIdsOfUser, listCases } from '../foreign.ts';
import { redactorForCase } from '../../actions/redaction.ts';

/** The caller's scope facts: account columns plus the actions area's operator/authority links. */
export async function scopeFacts(req: FastifyRequest): Promise<ScopeFacts & { authorityIds: string[] }> {
  const { db } = req.server.ctx;
  const p = req.principal;
  const userId = p.kind === 'anonymous' ? null : p.userId;
  const account = requestSession(req)?.account;
  const networks = [...(account?.networks ?? []), ...(userId ? await asnsOfUser(db, userId) : [])];
  const authorityIds = userId ? await authorityIdsOfUser(db, userId) : [];
  return { networks: [...new Set(networks)], authorityId: account?.authorityId ?? null, authorityIds };
}

export async function scopedRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;

  app.get('/cases', async (req, reply) => {
    authorize(req.principal, 'case:read');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const scope = caseScope(req.principal, await scopeFacts(req));
    if (scope.kind === 'none') throw new AppError('FORBIDDEN', 'No authority is attached to your account.');
    const listed = await listCases(db, scope.kind === 'all' ? 'all' : scope.authorityIds);
    // Authorities read titles redacted of the case's reporters (titles are free text).
    const cases =
      scope.kind === 'all' || listed === null
        ? listed
        : await Promise.all(
            listed.map(async (c) => ({ ...c, title: (await redactorForCase(db, c.id)).string(c.title) })),
          );
    const title = scope.kind === 'all' ? t('cases.all') : t('cases.title');
    return sendPage(
      reply,
      layout(
        ctx,
        title,
        html`<h1>${title}</h1>
${
  cases === null
    ? html`<p class="notice">${t('cases.unavailable')}</p>`
    : cases.length === 0
      ? html`<p class="empty">${t('cases.none')}</p>`
      : html`<div class="table-scroll"><table data-testid="cases"><thead><tr><th scope="col">${t('col.title')}</th><th \
scope="col">${t('col.category')}</th><th scope="col">${t('col.state')}</th><th scope="col">${t('col.created')}</th>\
</tr></thead><tbody>
${cases.map(
  (c) => html`<tr data-case-id="${c.id}"><td>${caseTitle(ctx, c.title, (v) => categoryLabel(ctx, v))}</td>\
<td>${categoryLabel(ctx, c.category)}</td><td>${labelOf(t, 'trc.case', c.state)}</td>\
<td>${fmtTime(c.createdAt, ctx.locale)}</td></tr>`,
)}</tbody></table></div>`
}`,
        { wide: true },
      ),
    );
  });
}
