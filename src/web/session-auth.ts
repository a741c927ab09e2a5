/**
 * Session cookies as a way to recognise a caller (registered in `PRINCIPAL_RESOLVERS`). The cookie
 * holds a random secret; the database holds its SHA-256, the user and the session's CSRF token.
 */
import type { FastifyRequest } from 'fastify';
import { fastifyCookie } from '@fastify/cookie';
import type { Principal } from '../core/roles.ts';
import type { PrincipalResolver } from './auth.ts';
import { SESSION_COOKIE, findSession, loadAccount, type Account, type Session } from '../db/accounts.ts';

interface RequestSession {
  session: Session;
  account: Account;
}

const SESSIONS = new WeakMap<FastifyRequest, RequestSession>();

/** The session and account behind the request, when it was recognised by its cookie. */
export function requestSession(req: FastifyRequest): RequestSession | undefined {
  return SESSIONS.get(req);
}

/** Cookies of a request, parsed once (the auth hook runs before @fastify/cookie's). */
export function requestCookies(req: FastifyRequest): Record<string, string | undefined> {
  const header = req.headers.cookie;
  if (!header) return {};
  try {
    return fastifyCookie.parse(header);
  } catch {
    return {};
  }
}

export const sessionResolver: PrincipalResolver = async (req) => {
  const secret = requestCookies(req)[SESSION_COOKIE];
  if (!secret) return null;
  const { db, config } = req.server.ctx;
  const session = await findSession(db, config, secret);
  if (!session) return null;
  const account = await loadAccount(db, session.userId);
  if (!account) return null;
  SESSIONS.set(req, { session, account });
  const p: Principal = { kind: 'session', userId: account.id, role: account.role, email: account.email };
  return p;
};
