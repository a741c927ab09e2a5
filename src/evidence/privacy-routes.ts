/**
 * Privacy routes of the evidence area: a reporter erases their own identity and reports
 * (`POST /api/v1/account/erasure`), an admin erases a reporter on request
 * (`POST /api/v1/privacy/erasures`), and an admin checks the audit chain
 * (`GET /api/v1/audit/verify`). Each route: validate → authorise (policy) → act → present.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { authorize } from '../core/policy.ts';
import { principalLabel } from '../core/roles.ts';
import { eraseReporter } from './retention.ts';
import { verifyAuditChain } from './audit.ts';

const ErasureBody = z
  .object({
    userId: z.string().min(1).max(40).optional(),
    email: z.email().max(320).optional(),
    number: z
      .string()
      .regex(/^\+?[\d\s().-]{6,30}$/, 'a phone number')
      .optional(),
  })
  .refine((b) => b.userId || b.email || b.number, 'name the reporter: userId, email or number');

export async function privacyRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;
  const tags = ['privacy'];

  app.post(
    '/api/v1/account/erasure',
    {
      schema: {
        summary:
          'Erase my identity and my reports (evidence already referred to an authority stays under its case, without ' +
          'my identity)',
        description:
          'Send `{"confirm": "erase"}`. The account is anonymised and disabled, its tokens and sessions deleted; the ' +
          'answer says what was deleted and what was kept.',
        tags,
      },
    },
    async (req) => {
      authorize(req.principal, 'account:erase-self');
      const p = req.principal;
      if (p.kind === 'anonymous' || !p.userId) throw new AppError('UNAUTHENTICATED');
      const b = z.object({ confirm: z.literal('erase') }).safeParse(req.body ?? {});
      if (!b.success) throw new AppError('BAD_REQUEST', 'Send {"confirm": "erase"}: erasure cannot be undone.');
      try {
        return await eraseReporter(db, { userId: p.userId }, `${principalLabel(p)}:self`);
      } catch (e) {
        throw new AppError('CONFLICT', e instanceof Error ? e.message : String(e));
      }
    },
  );

  app.post(
    '/api/v1/privacy/erasures',
    { schema: { summary: 'Erase a reporter on request: by account id, e-mail address or phone number', tags } },
    async (req) => {
      authorize(req.principal, 'privacy:erase');
      const b = ErasureBody.safeParse(req.body ?? {});
      if (!b.success)
        throw new AppError(
          'BAD_REQUEST',
          b.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
        );
      try {
        return await eraseReporter(db, b.data, principalLabel(req.principal));
      } catch (e) {
        throw new AppError('CONFLICT', e instanceof Error ? e.message : String(e));
      }
    },
  );

  app.get(
    '/api/v1/audit/verify',
    { schema: { summary: 'Re-hash the whole audit chain: edits, gaps and a cut tail are listed', tags } },
    async (req) => {
      authorize(req.principal, 'audit:read');
      return verifyAuditChain(db);
    },
  );
}
