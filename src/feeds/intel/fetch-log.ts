/**
 * Every fetch of a feed is counted in `/metrics` (`spamdesk_feed_fetches_total`, by feed,
 * collection, account and status) and logged with the account that made it (issue 19 item 7).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import type { Metrics } from '../../core/metrics.ts';
import type { Logger } from '../../core/logger.ts';
import { principalLabel, type Principal } from '../../core/roles.ts';

export type FeedName = 'taxii' | 'misp' | 'stix';
type Labels = 'feed' | 'collection' | 'account' | 'status';

const counters = new WeakMap<Metrics, Counter<Labels>>();

/** The fetch counter of a metrics registry (created on first use). */
export function feedFetchCounter(metrics: Metrics): Counter<Labels> {
  let c = counters.get(metrics);
  if (!c) {
    c = new Counter({
      name: 'spamdesk_feed_fetches_total',
      help: 'Fetches of the threat-intelligence feeds (TAXII, MISP, STIX bundles) by collection, account and status.',
      labelNames: ['feed', 'collection', 'account', 'status'],
      registers: [metrics.registry],
    });
    counters.set(metrics, c);
  }
  return c;
}

/** The account a fetch is counted under: a token or a user id (never a name or an address). */
export function accountOf(p: Principal): string {
  if (p.kind === 'anonymous') return 'anonymous';
  if (p.kind === 'token') return `token:${p.tokenId}`;
  return `user:${p.userId}`;
}

/** What a handler tells the log about the fetch it served. */
const served = new WeakMap<FastifyRequest, { collection: string; objects?: number }>();

export function noteFetch(req: FastifyRequest, collection: string, objects?: number): void {
  served.set(req, { collection, objects });
}

/** An `onResponse` hook counting and logging each fetch of a feed. */
export function fetchRecorder(feed: FeedName, metrics: Metrics, logger: Logger) {
  const counter = feedFetchCounter(metrics);
  const log = logger.child({ component: 'feeds' });
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const s = served.get(req);
    const collection = s?.collection ?? '-';
    const status = String(reply.statusCode);
    counter.inc({ feed, collection, account: accountOf(req.principal), status });
    log.info(
      {
        feed,
        route: req.routeOptions.url ?? req.url.split('?')[0],
        collection,
        account: principalLabel(req.principal),
        status: reply.statusCode,
        ...(s?.objects !== undefined ? { objects: s.objects } : {}),
      },
      'feed fetch',
    );
  };
}
