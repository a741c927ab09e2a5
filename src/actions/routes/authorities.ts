/**
 * `/api/v1/actions/authorities`: the authorities cases are referred to, and their competences.
 */
import type { FastifyInstance } from 'fastify';
import { authorize } from '../../core/policy.ts';
import { AuthorityInput, createAuthority, listAuthorities } from '../cases/authorities.ts';
import { ACTIONS_TAGS, body } from './route-helpers.ts';

export async function authorityRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;
  const tags = ACTIONS_TAGS;

  app.get(
    '/api/v1/actions/authorities',
    { schema: { summary: 'Authorities and their competences', tags } },
    async (req) => {
      authorize(req.principal, 'case:manage');
      return { authorities: await listAuthorities(db) };
    },
  );
  app.post(
    '/api/v1/actions/authorities',
    { schema: { summary: 'Register an authority', tags } },
    async (req, reply) => {
      authorize(req.principal, 'authority:manage');
      return reply.status(201).send({ authority: await createAuthority(db, body(AuthorityInput, req.body)) });
    },
  );
}
