/**
 * Dead letters in the workbench: what intake could not store (retry when the kept copy now passes
 * the checks, dismiss, download the kept copy — audited as evidence), and the outgoing messages the
 * outbox gave up on (actions area; retried by admins). Staff only; every action is audited.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize, can } from '../../core/policy.ts';
import { principalLabel } from '../../core/roles.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { listOutbox, outboxCounts, retryEntry } from '../../actions/outbox/outbox.ts';
import { notifyOutbox } from '../../actions/outbox/delivery.ts';
import { html } from '../html.ts';
import { csrfField, fmtTime, layout, pageContext, sendPage, verifyCsrf } from '../page.ts';
import { hasTable } from '../foreign.ts';
import { deadLetterPayload, dismissDeadLetter, listDeadLetters, retryDeadLetter } from '../dead-letters.ts';

const ID_RE = /^[0-9A-Za-z]{1,32}$/;
const OUTBOX_SHOWN = 100;

function idOf(raw: string): string {
  if (!ID_RE.test(raw)) throw new AppError('NOT_FOUND', 'No such dead letter.');
  return raw;
}

export async function deadLetterRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;

  app.get<{ Querystring: { state?: string; before?: string; done?: string; report?: string; reason?: string } }>(
    '/workbench/dead-letters',
    async (req, reply) => {
      authorize(req.principal, 'dead-letter:read');
      const ctx = pageContext(req, reply);
      const { t } = ctx;
      const state = req.query.state === 'closed' ? 'closed' : 'open';
      const before = typeof req.query.before === 'string' && ID_RE.test(req.query.before) ? req.query.before : null;
      const page = await listDeadLetters(db, state, before);
      const mayHandle = can(req.principal, 'dead-letter:handle');
      const outbox =
        can(req.principal, 'outbox:read') && (await hasTable(db, 'action_outbox'))
          ? { counts: await outboxCounts(db), dead: await listOutbox(db, { state: 'dead', limit: OUTBOX_SHOWN }) }
          : null;
      const q = req.query;
      const outcome =
        q.done === 'retried' && q.report
          ? html`<p class="notice" role="status">${t('dead.retried', { id: q.report })}</p>`
          : q.done === 'reindexed' && q.report
            ? html`<p class="notice" role="status">${t('roles.dead.reindexed', { id: q.report })}</p>`
            : q.done === 'duplicate' && q.report
              ? html`<p class="notice" role="status">${t('dead.duplicate', { id: q.report })}</p>`
              : q.done === 'refused' && q.reason
                ? html`<p class="error" role="alert">${t('dead.failed', { reason: q.reason.slice(0, 300) })}</p>`
                : '';
      const actionLabel = (a: string): string =>
        a === 'retried'
          ? t('dead.action.retried')
          : a === 'dismissed'
            ? t('dead.action.dismissed')
            : t('dead.action.retry-refused');
      const why = { 'no-copy': t('dead.nocopy'), source: '', cut: '≥ 1 MB' } as const;
      return sendPage(
        reply,
        layout(
          ctx,
          t('dead.title'),
          html`<h1>${t('dead.title')}</h1><p class="lead">${t('dead.lead')}</p>${outcome}
<p>${
            state === 'open'
              ? html`<strong>${t('dead.tab.open')}</strong> · <a \
href="/workbench/dead-letters?state=closed">${t('dead.tab.closed')}</a>`
              : html`<a href="/workbench/dead-letters">${t('dead.tab.open')}</a> · \
<strong>${t('dead.tab.closed')}</strong>`
          }</p>
${
  page.rows.length === 0
    ? html`<p class="empty">${t('dead.none')}</p>`
    : html`<div class="table-scroll"><table data-testid="dead-letters"><thead><tr><th \
scope="col">${t('col.created')}</th><th scope="col">${t('dead.source')}</th><th scope="col">${t('dead.origin')}</th>\
<th scope="col">${t('dead.reason')}</th><th scope="col">${t('dead.copy')}</th><th scope="col">${t('col.action')}</th>\
</tr></thead><tbody>
${page.rows.map(
  (d) => html`<tr data-dead-letter-id="${d.id}"><td class="nowrap">${fmtTime(d.createdAt, ctx.locale)}</td>\
<td>${d.source}</td><td \
class="mono">${d.origin ?? ''}</td><td>${d.reason}</td>
<td>${
    d.size === null
      ? t('dead.nocopy')
      : can(req.principal, 'evidence:read-raw')
        ? html`${d.size} B · <a href="/workbench/dead-letters/${d.id}/copy">${t('dead.download')}</a>`
        : `${d.size} B`
  }</td>
<td>${
    state === 'open' && mayHandle
      ? html`${
          d.notRetryable === null
            ? html`<form method="post" action="/workbench/dead-letters/${d.id}/retry" \
class="inline">${csrfField(ctx)}<button type="submit">${t('dead.retry')}</button></form> `
            : why[d.notRetryable]
              ? html`<span class="muted">${why[d.notRetryable]}</span> `
              : ''
        }<form method="post" action="/workbench/dead-letters/${d.id}/dismiss" class="inline">${csrfField(ctx)}<button \
type="submit">${t('dead.dismiss')}</button></form>${
          d.last?.action === 'retry-refused'
            ? html`<br><span class="muted">${t('dead.failed', { reason: d.last.detail ?? '' })}</span>`
            : ''
        }`
      : d.last
        ? html`<span \
class="muted">${t('dead.closed', {
            action: actionLabel(d.last.action),
            who: d.last.actor,
            when: fmtTime(d.last.at, ctx.locale),
          })}<\
/span>${
            d.last.action === 'retried' && d.last.detail
              ? html` · <a href="/workbench/reports/${d.last.detail}">${d.last.detail}</a>`
              : ''
          }`
        : d.retriedAt
          ? fmtTime(d.retriedAt, ctx.locale)
          : ''
  }</td></tr>`,
)}</tbody></table></div>`
}
${
  page.next
    ? html`<p><a rel="next" href="/workbench/dead-letters?state=${state}&before=${page.next}">${t('list.next')}</a></p>`
    : ''
}
${
  outbox
    ? html`<section class="card" aria-labelledby="h-outbox"><h2 \
id="h-outbox">${t('dead.outbox', { n: outbox.counts.dead })}</h2>${
        outbox.dead.length === 0
          ? html`<p class="empty">${t('dead.none')}</p>`
          : html`<div class="table-scroll"><table data-testid="outbox-dead"><thead><tr><th \
scope="col">${t('col.created')}</th><th scope="col">${t('dead.source')}</th><th scope="col">${t('col.title')}</th><th \
scope="col">${t('dead.reason')}</th><th scope="col">${t('col.action')}</th></tr></thead><tbody>${outbox.dead.map(
              (o) => html`<tr data-outbox-id="${o.id}"><td class="nowrap">${fmtTime(
                o.created_at,
                ctx.locale,
              )}</td><td>${o.channel} \
· ${o.purpose}</td><td>${o.description} <span class="mono muted">${o.destination}</span></td><td>${o.last_error ?? ''} \
<span class="muted">(${o.attempts}/${o.max_attempts})</span></td>
<td>${
                can(req.principal, 'outbox:retry')
                  ? html`<form method="post" action="/workbench/dead-letters/outbox/${o.id}/retr\
y" class="inline">${csrfField(ctx)}<button type="submit">${t('dead.retry')}</button></form>`
                  : ''
              }</td></tr>`,
            )}</tbody></table></div>`
      }</section>`
    : ''
}`,
          { wide: true },
        ),
      );
    },
  );

  app.get<{ Params: { id: string } }>('/workbench/dead-letters/:id/copy', async (req, reply) => {
    authorize(req.principal, 'evidence:read-raw');
    const id = idOf(req.params.id);
    const payload = await deadLetterPayload(db, id);
    if (!payload) throw new AppError('NOT_FOUND', 'Nothing was kept of this entry.');
    await writeAudit(db, {
      actor: principalLabel(req.principal),
      action: 'evidence.download-dead-letter',
      subject: `dead-letter:${id}`,
      ip: req.ip,
      detail: { size: payload.length },
    });
    return reply
      .type('application/octet-stream')
      .header('content-disposition', `attachment; filename="dead-letter-${id}.bin"`)
      .header('x-content-type-options', 'nosniff')
      .send(payload);
  });

  app.post<{ Params: { id: string } }>('/workbench/dead-letters/:id/retry', async (req, reply) => {
    authorize(req.principal, 'dead-letter:handle');
    verifyCsrf(req, (req.body as Record<string, unknown> | undefined)?._csrf);
    const id = idOf(req.params.id);
    const actor = principalLabel(req.principal);
    const r = await retryDeadLetter(db, app.ctx.writer, id, actor);
    await writeAudit(db, {
      actor,
      action: 'dead-letter.retry',
      subject: `dead-letter:${id}`,
      ip: req.ip,
      detail: r.stored ? { report: r.reportId, duplicate: r.duplicate } : { refused: r.reason },
    });
    const qs = r.stored
      ? `done=${r.reindexed ? 'reindexed' : r.duplicate ? 'duplicate' : 'retried'}&report=${r.reportId}`
      : `done=refused&reason=${encodeURIComponent(r.reason.slice(0, 300))}`;
    return reply.redirect(`/workbench/dead-letters?${qs}`, 303);
  });

  app.post<{ Params: { id: string } }>('/workbench/dead-letters/:id/dismiss', async (req, reply) => {
    authorize(req.principal, 'dead-letter:handle');
    verifyCsrf(req, (req.body as Record<string, unknown> | undefined)?._csrf);
    const id = idOf(req.params.id);
    const actor = principalLabel(req.principal);
    await dismissDeadLetter(db, id, actor);
    await writeAudit(db, { actor, action: 'dead-letter.dismiss', subject: `dead-letter:${id}`, ip: req.ip });
    return reply.redirect('/workbench/dead-letters', 303);
  });

  app.post<{ Params: { id: string } }>('/workbench/dead-letters/outbox/:id/retry', async (req, reply) => {
    authorize(req.principal, 'outbox:retry');
    verifyCsrf(req, (req.body as Record<string, unknown> | undefined)?._csrf);
    const id = idOf(req.params.id);
    if (!(await hasTable(db, 'action_outbox')) || !(await retryEntry(db, id)))
      throw new AppError('CONFLICT', 'Only queued or dead entries can be retried.');
    await writeAudit(db, {
      actor: principalLabel(req.principal),
      action: 'outbox.retry',
      subject: `outbox:${id}`,
      ip: req.ip,
    });
    notifyOutbox();
    return reply.redirect('/workbench/dead-letters', 303);
  });
}
