/**
 * `/api/v1/actions/isp/…`: ISP alerts (a network operator sees and handles those of its own
 * networks) and the registry of network operators.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { principalLabel } from '../../core/roles.ts';
import { listAlerts, markAlertHandled } from '../isp/isp-digests.ts';
import { OperatorInput, listOperators, registerOperator } from '../isp/operators.ts';
import { ACTIONS_TAGS, Id, ListQuery, body, operatorScope } from './route-helpers.ts';

export async function ispRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;
  const tags = ACTIONS_TAGS;

  app.get(
    '/api/v1/actions/isp/alerts',
    { schema: { summary: 'ISP alerts (network operators: their own networks)', tags } },
    async (req) => {
      authorize(req.principal, 'isp-alert:read');
      const q = body(ListQuery, req.query);
      const scope = await operatorScope(app, req.principal);
      return {
        alerts: await listAlerts(db, { ...(scope ? { operatorIds: scope } : {}), state: q.state, limit: q.limit }),
      };
    },
  );
  app.post(
    '/api/v1/actions/isp/alerts/:id/handled',
    { schema: { summary: 'Mark an alert handled', tags } },
    async (req) => {
      authorize(req.principal, 'isp-alert:handle');
      const { id } = body(Id, req.params);
      const scope = await operatorScope(app, req.principal);
      if (!(await markAlertHandled(db, id, principalLabel(req.principal), scope)))
        throw new AppError('NOT_FOUND', 'No open alert with this id in your networks.');
      return { ok: true };
    },
  );
  app.get(
    '/api/v1/actions/isp/operators',
    { schema: { summary: 'Network operators and their ASNs', tags } },
    async (req) => {
      authorize(req.principal, 'operator:manage');
      return { operators: await listOperators(db) };
    },
  );
  app.post(
    '/api/v1/actions/isp/operators',
    { schema: { summary: 'Register a network operator', tags } },
    async (req, reply) => {
      authorize(req.principal, 'operator:manage');
      return reply.status(201).send({ operator: await registerOperator(db, body(OperatorInput, req.body)) });
    },
  );
}
