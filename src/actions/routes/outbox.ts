/**
 * `/api/v1/actions/outbox`: what leaves the platform, its dead entries visible and queued again by
 * hand (audited as `outbox.retry`).
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { principalLabel } from '../../core/roles.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { getOutboxEntry, listOutbox, outboxCounts, retryEntry, OUTBOX_STATES } from '../outbox/outbox.ts';
import { notifyOutbox } from '../outbox/delivery.ts';
import { ACTIONS_TAGS, Id, ListQuery, body } from './route-helpers.ts';

export async function outboxRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;
  const tags = ACTIONS_TAGS;

  app.get(
    '/api/v1/actions/outbox',
    { schema: { summary: 'Outbox entries (state: queued, sending, sent, dead) and counts', tags } },
    async (req) => {
      authorize(req.principal, 'outbox:read');
      const q = body(ListQuery, req.query);
      if (q.state && !(OUTBOX_STATES as readonly string[]).includes(q.state))
        throw new AppError('BAD_REQUEST', `state must be one of ${OUTBOX_STATES.join(', ')}.`);
      return { counts: await outboxCounts(db), entries: await listOutbox(db, q) };
    },
  );
  app.get(
    '/api/v1/actions/outbox/:id',
    { schema: { summary: 'One outbox entry (metadata; the body is not shown)', tags } },
    async (req) => {
      authorize(req.principal, 'outbox:read');
      const e = await getOutboxEntry(db, body(Id, req.params).id);
      if (!e) throw new AppError('NOT_FOUND', 'No such outbox entry.');
      const { body: bytes, ...rest } = e;
      return { entry: { ...rest, size: bytes.length } };
    },
  );
  app.post(
    '/api/v1/actions/outbox/:id/retry',
    { schema: { summary: 'Queue a dead entry again', tags } },
    async (req) => {
      authorize(req.principal, 'outbox:retry');
      const { id } = body(Id, req.params);
      if (!(await retryEntry(db, id))) throw new AppError('CONFLICT', 'Only queued or dead entries can be retried.');
      await writeAudit(db, {
        actor: principalLabel(req.principal),
        action: 'outbox.retry',
        subject: `outbox:${id}`,
        ip: req.ip,
      });
      notifyOutbox();
      return { ok: true };
    },
  );
}
