/**
 * Every fetch of a feed is counted in `/metrics` (`spamdesk_feed_fetches_total`, by feed,
 * collection, status, role and account; one counter shared with the lists, `../fetch-log.ts`)
 * and logged with the account that made it (issue 19 item 7).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from '../../core/metrics.ts';
import type { Logger } from '../../core/logger.ts';
import { principalLabel } from '../../core/roles.ts';
import { accountOf, feedFetchCounter, roleLabel } from '../fetch-log.ts';

export type FeedName = 'taxii' | 'misp' | 'stix';
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
    const p = req.principal;
    counter.inc({ feed, collection, status, role: roleLabel(p), account: accountOf(p) });
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
