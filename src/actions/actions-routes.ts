/**
 * HTTP API of the actions area, under `/api/v1/actions/` (and the partner exchange's
 * `/api/v1/exchange/referrals`): one file per resource in `routes/`, each registering its own
 * routes; this plugin registers them all, in this order. Each route: validate → authorise
 * (policy) → act (service) → present. Rules: `ROUTE_RULES` in `core/policy.ts`.
 */
import type { FastifyInstance } from 'fastify';
import { publicKeyRoutes } from './routes/public-key.ts';
import { caseRoutes } from './routes/cases.ts';
import { referralRoutes } from './routes/referrals.ts';
import { authorityRoutes } from './routes/authorities.ts';
import { outboxRoutes } from './routes/outbox.ts';
import { heldRoutes } from './routes/held.ts';
import { ispRoutes } from './routes/isp.ts';
import { exchangeRoutes } from './routes/exchange.ts';
import { senderRoutes } from './routes/senders.ts';

export { MAX_EXCHANGE_BODY_BYTES } from './routes/exchange.ts';
export { useSenderDnsResolver } from './routes/senders.ts';

/** The resources of the actions API; each function registers its routes on the app it is given. */
export const ACTION_ROUTE_RESOURCES: readonly ((app: FastifyInstance) => Promise<void>)[] = [
  publicKeyRoutes,
  caseRoutes,
  referralRoutes,
  authorityRoutes,
  outboxRoutes,
  heldRoutes,
  ispRoutes,
  exchangeRoutes,
  senderRoutes,
];

export async function actionRoutes(app: FastifyInstance): Promise<void> {
  // Called on the same instance (not app.register): no new encapsulation context, so the
  // routes, hooks and error handler are exactly those of the single plugin this replaced.
  for (const register of ACTION_ROUTE_RESOURCES) await register(app);
}
