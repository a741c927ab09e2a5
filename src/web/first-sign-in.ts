/**
 * First sign-in with a generated password (the first admin's one-time password, an account an
 * admin created or reset): until the account has chosen its own password, a session may only
 * reach the password page, sign out and load static files. Every other page redirects there
 * (GET) or is refused with 403 `PASSWORD_CHANGE_REQUIRED` details (anything else, the API with
 * the session cookie included). API tokens are not sessions and are not affected: a token was
 * created by someone who already signed in, and an add-on must keep reporting.
 */
import type { FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import { requestSession } from './session-auth.ts';

/** Where an account with a generated password chooses its own. */
export const PASSWORD_PAGE = '/account/password';

/** Routes (as registered) a session that must change its password may still reach. */
const ALLOWED = new Set([`GET ${PASSWORD_PAGE}`, `POST ${PASSWORD_PAGE}`, 'POST /logout', 'GET /login', 'POST /login']);

/** True when the caller is a session whose account still has a generated password. */
export function mustChangePassword(req: FastifyRequest): boolean {
  if (req.principal.kind !== 'session') return false;
  return requestSession(req)?.account.mustChangePassword === true;
}

/**
 * Throws 403 (with `details.passwordChange`, which the page error handler turns into a redirect
 * for GET) when the session must change its password and the route is not one it may reach.
 */
export function enforcePasswordChange(req: FastifyRequest, routeUrl: string): void {
  if (!mustChangePassword(req)) return;
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  if (ALLOWED.has(`${method} ${routeUrl}`) || routeUrl.startsWith('/static/')) return;
  throw new AppError('FORBIDDEN', `Choose a new password first: ${PASSWORD_PAGE}.`, {
    passwordChange: true,
    location: PASSWORD_PAGE,
  });
}
