/**
 * `/api/v1/actions/held-campaigns`: the campaigns the gates hold (`held-campaigns.ts`), most recently
 * active first, with why and the categories their messages carry. Staff only (the workbench's queue).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { authorize } from '../../core/policy.ts';
import { policyFor } from '../action-policy.ts';
import { AppError } from '../../core/errors.ts';
import { MAX_HELD_PAGE, decodeHeldCursor, listHeldCampaigns } from '../held-campaigns.ts';
import { ACTIONS_TAGS, body } from './route-helpers.ts';

const HeldQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_HELD_PAGE).optional(),
  before: z.string().max(200).optional(),
  min: z.coerce.number().int().min(1).max(1_000_000).optional(),
});

export async function heldRoutes(app: FastifyInstance): Promise<void> {
  const { db, config } = app.ctx;
  app.get(
    '/api/v1/actions/held-campaigns',
    {
      schema: {
        summary:
          'Campaigns the gates hold (mixed categories or legitimate mail): nothing leaves on them automatically ' +
          'until an analyst relabels or refers by hand. ?limit= (≤ 200), ?before= (the previous page’s next), ' +
          '?min= (at least N messages)',
        tags: ACTIONS_TAGS,
      },
    },
    async (req) => {
      authorize(req.principal, 'workbench:use');
      const q = body(HeldQuery, req.query);
      if (q.before !== undefined && decodeHeldCursor(q.before) === null)
        throw new AppError('BAD_REQUEST', 'before: not a cursor this list gave (use the previous page’s next).');
      const page = await listHeldCampaigns(db, policyFor(config), {
        limit: q.limit,
        before: q.before ?? null,
        minMessages: q.min,
      });
      return { total: page.total, next: page.next, campaigns: page.rows };
    },
  );
}
