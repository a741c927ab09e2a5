/**
 * Resolves who is calling: `Authorization: Bearer sdk_…` API tokens here; the web-app area adds
 * session cookies. Runs on every request before body parsing, so an unknown token costs no upload.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import { ANONYMOUS, isRole, type Principal } from '../core/roles.ts';
import { findToken, touchToken } from '../db/tokens.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

/** Additional resolvers (session cookies…) tried when no bearer token is presented. */
export type PrincipalResolver = (req: FastifyRequest) => Promise<Principal | null>;

export const authPlugin = fp(async (app: FastifyInstance, opts: { resolvers?: PrincipalResolver[] }) => {
  // Set on every request by the hook below; null only before it runs.
  app.decorateRequest<Principal | null>('principal', null);
  app.addHook('onRequest', async (req) => {
    req.principal = ANONYMOUS;
    const header = req.headers.authorization;
    if (header) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!m) throw new AppError('INVALID_TOKEN', 'Authorization header must be `Bearer <token>`.');
      const token = await findToken(app.ctx.db, m[1]);
      if (!token || !isRole(token.role)) throw new AppError('INVALID_TOKEN');
      req.principal = { kind: 'token', tokenId: token.id, role: token.role, userId: token.user_id, name: token.name };
      // Best effort, never blocks the request on a write.
      void touchToken(app.ctx.db, token);
      return;
    }
    for (const resolve of opts.resolvers ?? []) {
      const p = await resolve(req);
      if (p) {
        req.principal = p;
        return;
      }
    }
  });
});
