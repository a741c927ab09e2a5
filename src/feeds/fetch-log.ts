/**
 * Every fetch of a feed is counted in `/metrics` (`spamdesk_feed_fetches_total`, by feed, HTTP
 * status and role) and logged with the account that fetched it, so an operator sees who uses which
 * feed and can revoke a token that scrapes too hard. Shared by the lists (`lists/`) and the
 * threat-intelligence feeds (`intel/`): call {@link recordFeedFetch} once per answered request.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { Metrics } from '../core/metrics.ts';
import { principalLabel, type Principal } from '../core/roles.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A feed route's name in `spamdesk_feed_fetches_total` (set it to have the route's fetches counted). */
    feed?: string;
  }
}

export const FEED_FETCHES_METRIC = 'spamdesk_feed_fetches_total';

type FetchLabels = 'feed' | 'collection' | 'status' | 'role' | 'account';
const counters = new WeakMap<Registry, Counter<FetchLabels>>();

/**
 * The counter of a registry, created on first use (one per running instance). `collection` is `-`
 * for the plain lists; `account` is `token:<id>`, `user:<id>` or `anonymous` (ids, never names).
 */
export function feedFetchCounter(metrics: Metrics): Counter<FetchLabels> {
  let c = counters.get(metrics.registry);
  if (!c) {
    c = new Counter({
      name: FEED_FETCHES_METRIC,
      help: 'Feed fetches (plain lists, CSV, STIX/TAXII, MISP) by feed, collection, HTTP status, role and account.',
      labelNames: ['feed', 'collection', 'status', 'role', 'account'],
      registers: [metrics.registry],
    });
    counters.set(metrics.registry, c);
  }
  return c;
}

export function roleLabel(p: Principal): string {
  return p.kind === 'anonymous' ? 'anonymous' : p.role;
}

/** The account a fetch is counted under: a token or a user id (never a name or an address). */
export function accountOf(p: Principal): string {
  if (p.kind === 'anonymous') return 'anonymous';
  if (p.kind === 'token') return `token:${p.tokenId}`;
  return `user:${p.userId}`;
}

/** Counts and logs one fetch of `feed` (call it when the status is known, e.g. 200, 304 or 403). */
export function recordFeedFetch(
  metrics: Metrics,
  req: FastifyRequest,
  reply: FastifyReply,
  feed: string,
  extra: Record<string, unknown> = {},
): void {
  const status = reply.statusCode;
  const p = req.principal;
  feedFetchCounter(metrics).inc({
    feed,
    collection: '-',
    status: String(status),
    role: roleLabel(p),
    account: accountOf(p),
  });
  req.log.info({ feed, status, account: principalLabel(req.principal), ...extra }, 'feed fetched');
}
