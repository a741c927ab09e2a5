/**
 * `/api/v1/actions/referrals`: an authority lists its referrals, downloads their packages (audited)
 * and answers them; staff see all.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { principalLabel } from '../../core/roles.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { answerReferral, getReferralPackage, listReferralPage, REFERRAL_ANSWERS } from '../referrals/referrals.ts';
import { ACTIONS_TAGS, Id, authorityScope, body } from './route-helpers.ts';

export async function referralRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;
  const tags = ACTIONS_TAGS;

  app.get(
    '/api/v1/actions/referrals',
    {
      schema: {
        summary: 'Referrals, newest first, a page at a time (authorities: their own)',
        description:
          '`state=open|closed`, `case`; paging: `limit` (default 50, at most 1000) and `cursor` (the `next` of ' +
          'the previous page). The last page has `next: null`.',
        tags,
      },
    },
    async (req) => {
      authorize(req.principal, 'referral:answer');
      const q = body(
        z.object({
          state: z.enum(['open', 'closed']).optional(),
          case: z.string().max(40).optional(),
          cursor: z.string().max(40).optional(),
          limit: z.coerce.number().int().min(1).max(1000).optional(),
        }),
        req.query,
      );
      const scope = await authorityScope(app, req.principal);
      return listReferralPage(
        db,
        {
          ...(scope ? { authorityIds: scope } : {}),
          ...(q.case ? { caseId: q.case } : {}),
          ...(q.state ? { closed: q.state === 'closed' } : {}),
        },
        q.cursor ?? null,
        q.limit,
      );
    },
  );

  app.get(
    '/api/v1/actions/referrals/:id/package',
    { schema: { summary: 'Download a referral’s evidence package (audited)', tags, produces: ['application/zip'] } },
    async (req, reply) => {
      authorize(req.principal, 'referral:answer');
      const { id } = body(Id, req.params);
      const scope = await authorityScope(app, req.principal);
      const r = await getReferralPackage(db, id);
      if (scope && !scope.includes(r.authority_id)) throw new AppError('NOT_FOUND', `No referral ${id}.`);
      await writeAudit(db, {
        actor: principalLabel(req.principal),
        action: 'referral.download',
        subject: `referral:${id}`,
        ip: req.ip,
        detail: { sha256: r.package_sha256 },
      });
      return reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="case-${r.case_id}-${r.id}.zip"`)
        .header('digest', `sha-256=${Buffer.from(r.package_sha256, 'hex').toString('base64')}`)
        .send(r.package);
    },
  );

  app.post(
    '/api/v1/actions/referrals/:id/answer',
    { schema: { summary: 'Acknowledge, ask for more, or close a referral', tags } },
    async (req) => {
      authorize(req.principal, 'referral:answer');
      const { id } = body(Id, req.params);
      const b = body(
        z.object({ answer: z.enum(REFERRAL_ANSWERS), note: z.string().max(10_000).nullable().default(null) }),
        req.body,
      );
      const scope = await authorityScope(app, req.principal);
      const r = await getReferralPackage(db, id);
      if (scope && !scope.includes(r.authority_id)) throw new AppError('NOT_FOUND', `No referral ${id}.`);
      await answerReferral(db, id, b.answer, principalLabel(req.principal), b.note);
      return { ok: true };
    },
  );
}
