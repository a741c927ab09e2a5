/**
 * The policy gate: before a request body is read, the route's rule from `core/policy.ts`
 * (`ROUTE_RULES`) is checked against the caller, so a caller without the right never uploads a
 * byte nor reaches a handler. Handlers still authorise and apply row-level scopes. The gate also
 * records every route as it is registered (`app.routeTable`), which the authorisation-matrix test
 * walks so that no route can escape it.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.ts';
import { passesRule, routeRule } from '../core/policy.ts';
import { enforcePasswordChange } from './first-sign-in.ts';

export interface RegisteredRoute {
  method: string;
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered after the gate, HEAD routes included. */
    routeTable: RegisteredRoute[];
  }
}

export const policyGate = fp(async (app: FastifyInstance) => {
  const table: RegisteredRoute[] = [];
  app.decorate('routeTable', table);
  app.addHook('onRoute', (opts) => {
    const methods = Array.isArray(opts.method) ? opts.method : [opts.method];
    for (const m of methods) table.push({ method: String(m).toUpperCase(), url: opts.url });
  });
  app.addHook('preParsing', async (req, _reply, payload) => {
    const url = req.routeOptions.url;
    if (!url) return payload;
    // A session with a generated password reaches nothing but the password page (first-sign-in.ts).
    enforcePasswordChange(req, url);
    const rule = routeRule(req.method, url);
    // Routes without a rule are left to their handler (and fail the authorisation-matrix test).
    if (rule && typeof rule === 'object' && rule.gate === false) return payload;
    if (rule && !passesRule(req.principal, rule)) {
      if (req.principal.kind === 'anonymous') throw new AppError('UNAUTHENTICATED');
      throw new AppError('FORBIDDEN', `Your role (${req.principal.role}) may not ${req.method} ${url}.`);
    }
    return payload;
  });
});
