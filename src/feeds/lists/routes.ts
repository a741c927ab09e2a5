/**
 * The lists' HTTP routes:
 * - `GET /feeds/ips.txt`, `/feeds/domains.txt`, `/feeds/listings.csv`: the plain lists, for API
 *   tokens with `feeds:read` (partners, network operators, senders, staff), with `ETag` and
 *   `Last-Modified` and 304 answers;
 * - `GET /api/v1/feeds/listings/:value` (public): why a value is listed, as the look-up page shows it;
 * - `POST /api/v1/feeds/delist-requests` (public, rate-limited): ask for a value's removal;
 * - `GET /api/v1/feeds/listings` and `GET /api/v1/feeds/delist-requests` (analysts, keyset pages),
 *   `POST /api/v1/feeds/delist-requests/:id/decision` (analysts: grant or refuse).
 * Every fetch of a feed is counted and logged by account (`../fetch-log.ts`).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { principalLabel } from '../../core/roles.ts';
import { publicBaseUrl } from '../../core/config.ts';
import { policyFor } from '../../actions/action-policy.ts';
import { LISTS } from '../../actions/listing-policy.ts';
import { recordFeedFetch } from '../fetch-log.ts';
import { explainListing } from './explain.ts';
import { decideDelisting, listDelistRequests, requestDelisting, validateDelistInput } from './delisting.ts';
import { feedEtag, feedVersion, httpDate, notModified, renderPlainFeed, type PlainFeed } from './plain-lists.ts';
import { parseEvidence } from './store.ts';

const PAGE_MAX = 500;
const CONTENT_TYPES: Record<PlainFeed, string> = {
  'ips.txt': 'text/plain; charset=utf-8',
  'domains.txt': 'text/plain; charset=utf-8',
  'listings.csv': 'text/csv; charset=utf-8',
};
const DOMAIN_CATEGORIES = ['phishing', 'malware', 'scam', 'commercial', 'other'] as const;

const FeedQuery = z
  .object({
    list: z.enum(LISTS).optional(),
    category: z.enum(DOMAIN_CATEGORIES).optional(),
  })
  .strict();

const PageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(PAGE_MAX).default(100),
    after: z.string().max(255).optional(),
    before: z.string().max(200).optional(),
    state: z.enum(['listed', 'held', 'expired', 'delisted', 'pending', 'granted', 'refused']).optional(),
    kind: z.enum(['ip', 'domain']).optional(),
  })
  .strict();

const Decision = z.object({
  decision: z.enum(['grant', 'refuse']),
  note: z.string().max(2000).default(''),
});

function parsed<T>(schema: z.ZodType<T>, v: unknown): T {
  const r = schema.safeParse(v ?? {});
  if (!r.success)
    throw new AppError(
      'BAD_REQUEST',
      r.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; '),
    );
  return r.data;
}

export async function listsRoutesPlugin(app: FastifyInstance): Promise<void> {
  const { db, config, metrics } = app.ctx;
  const baseUrl = () => publicBaseUrl(config);

  // Counted once answered, whatever the answer (200, 304, 401, 403, 400): the gate answers some.
  app.addHook('onResponse', async (req, reply) => {
    const feed = req.routeOptions.config?.feed;
    if (feed) recordFeedFetch(metrics, req, reply, feed);
  });

  for (const feed of ['ips.txt', 'domains.txt', 'listings.csv'] as const) {
    app.get<{ Querystring: Record<string, string> }>(
      `/feeds/${feed}`,
      {
        config: { feed },
        schema: {
          summary: `The ${feed} blocklist (tokens with feeds:read); ETag and Last-Modified, 304 when unchanged`,
          tags: ['feeds'],
        },
      },
      async (req, reply) => {
        authorize(req.principal, 'feeds:read');
        const filter = parsed(FeedQuery, req.query);
        const v = await feedVersion(db);
        const etag = feedEtag(feed, `${filter.list ?? ''}|${filter.category ?? ''}`, v);
        reply.header('ETag', etag).header('Last-Modified', httpDate(v.changedAt)).header('Cache-Control', 'no-cache');
        if (notModified(req.headers, etag, v.changedAt)) return reply.status(304).send();
        const text = await renderPlainFeed(db, policyFor(config), feed, filter, v, baseUrl());
        return reply.type(CONTENT_TYPES[feed]).send(text);
      },
    );
  }

  app.get<{ Params: { value: string } }>(
    '/api/v1/feeds/listings/:value',
    {
      schema: {
        summary: 'Is this IP or domain listed, and why (public; reports redacted)',
        tags: ['feeds'],
      },
    },
    async (req) => {
      const view = await explainListing(db, req.params.value);
      if (!view) throw new AppError('BAD_REQUEST', 'value: an IP address or a domain name');
      return view;
    },
  );

  app.get<{ Querystring: Record<string, string> }>(
    '/api/v1/feeds/listings',
    { schema: { summary: 'Every listing, held and past ones too (analysts; keyset pages by value)', tags: ['feeds'] } },
    async (req) => {
      authorize(req.principal, 'listing:manage');
      const q = parsed(PageQuery, req.query);
      let query = db
        .selectFrom('feed_listings')
        .selectAll()
        .orderBy('value')
        .limit(q.limit + 1);
      if (q.state) query = query.where('state', '=', q.state);
      if (q.kind) query = query.where('kind', '=', q.kind);
      if (q.after) query = query.where('value', '>', q.after);
      const rows = await query.execute();
      const page = rows.slice(0, q.limit);
      return {
        listings: page.map((r) => ({
          id: r.id,
          kind: r.kind,
          value: r.value,
          list: r.list,
          state: r.state,
          returnCode: r.return_code,
          category: r.category,
          reportCount: Number(r.report_count),
          campaignCount: Number(r.campaign_count),
          firstSeen: r.first_seen,
          lastSeen: r.last_seen,
          listedAt: r.listed_at,
          expiresAt: r.expires_at,
          delistedAt: r.delisted_at,
          delistedBy: r.delisted_by,
          signals: JSON.parse(r.signals) as unknown,
          ...parseEvidence(r.evidence),
        })),
        next: rows.length > q.limit ? page[page.length - 1].value : null,
      };
    },
  );

  app.post<{ Body: unknown }>(
    '/api/v1/feeds/delist-requests',
    {
      bodyLimit: 16 * 1024,
      schema: {
        summary: 'Ask for a listed IP or domain to be removed (public; rate-limited; decided by rule or analyst)',
        description:
          'JSON `{ "value": "192.0.2.7", "reason": "…", "contact": "abuse@example.net" }` (contact optional).',
        tags: ['feeds'],
      },
    },
    async (req, reply) => {
      const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
      const input = validateDelistInput(body);
      const out = await requestDelisting(db, policyFor(config), {
        ...input,
        clientIp: req.ip,
        actor: principalLabel(req.principal),
      });
      return reply.status(out.created ? 201 : 200).send({
        id: out.request.id,
        value: out.request.value,
        state: out.request.state,
        createdAt: out.request.created_at,
        decidedAt: out.request.decided_at,
        decisionNote: out.request.decision_note,
      });
    },
  );

  app.get<{ Querystring: Record<string, string> }>(
    '/api/v1/feeds/delist-requests',
    { schema: { summary: 'Delisting requests, newest first (analysts; keyset pages)', tags: ['feeds'] } },
    async (req) => {
      authorize(req.principal, 'listing:manage');
      const q = parsed(PageQuery, req.query);
      const page = await listDelistRequests(db, { state: q.state, before: q.before ?? null, limit: q.limit });
      return {
        requests: page.rows.map((r) => ({
          id: r.id,
          listingId: r.listing_id,
          kind: r.kind,
          value: r.value,
          reason: r.reason,
          contact: r.contact,
          state: r.state,
          createdAt: r.created_at,
          decidedBy: r.decided_by,
          decidedAt: r.decided_at,
          decisionNote: r.decision_note,
        })),
        next: page.next,
      };
    },
  );

  app.post<{ Params: { id: string }; Body: unknown }>(
    '/api/v1/feeds/delist-requests/:id/decision',
    {
      bodyLimit: 16 * 1024,
      schema: { summary: 'Grant or refuse a delisting request (analysts; audited)', tags: ['feeds'] },
    },
    async (req) => {
      authorize(req.principal, 'listing:manage');
      const d = parsed(Decision, req.body);
      const r = await decideDelisting(db, req.params.id, d.decision, d.note, principalLabel(req.principal), req.ip);
      return { id: r.id, value: r.value, state: r.state, decidedBy: r.decided_by, decidedAt: r.decided_at };
    },
  );
}
