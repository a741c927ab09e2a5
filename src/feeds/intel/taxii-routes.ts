/**
 * The read-only TAXII 2.1 server (OASIS TAXII Version 2.1, 2021): discovery at `/taxii2/`, one API
 * root `/taxii2/spamdesk/`, its collections, objects (with `added_after`, `limit`, `next`,
 * `match[id|type|version|spec_version]`), one object, its versions, and the manifest. Every
 * answer is `application/taxii+json;version=2.1`; a request that does not accept it gets 406; every
 * error is a TAXII error message (§3.6.1). Partners and network operators see only the collections
 * granted to their token or account (others answer 404, as for one that does not exist).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../../core/errors.ts';
import { findCollection, listCollections, mayRead, readableCollections, type CollectionSpec } from './collections.ts';
import { fetchRecorder, noteFetch } from './fetch-log.ts';
import { objectExists, parseObjectQuery, readPage, type Page } from './taxii-read.ts';
import { policyFor } from '../../actions/action-policy.ts';

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';
export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';
const API_ROOT = 'spamdesk';

/** Whether an Accept header admits TAXII 2.1 (TAXII 2.1 §1.6.8: no version parameter means the latest). */
export function acceptsTaxii(accept: string | undefined): boolean {
  if (!accept) return false;
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((s) => s.trim().toLowerCase());
    if (type !== 'application/taxii+json') continue;
    const version = params.find((p) => p.startsWith('version='))?.slice('version='.length);
    const q = params.find((p) => p.startsWith('q='))?.slice(2);
    if (q !== undefined && Number(q) === 0) continue;
    if (version === undefined || version === '2.1') return true;
  }
  return false;
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Authentication required',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  413: 'Request too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Unavailable',
};

function sendError(reply: FastifyReply, status: number, description: string): FastifyReply {
  if (status === 401) void reply.header('www-authenticate', 'Bearer realm="spamdesk-taxii"');
  return reply
    .status(status)
    .header('content-type', TAXII_MEDIA_TYPE)
    .send(Buffer.from(JSON.stringify({ title: TITLES[status] ?? 'Error', description, http_status: String(status) })));
}

/** Sent as bytes: Fastify would otherwise rewrite the media type (quoting `version`, adding a charset). */
function sendTaxii(reply: FastifyReply, body: string): FastifyReply {
  return reply.header('content-type', TAXII_MEDIA_TYPE).header('vary', 'Accept, Authorization').send(Buffer.from(body));
}

function collectionResource(c: CollectionSpec): Record<string, unknown> {
  return {
    id: c.id,
    title: c.title,
    ...(c.description ? { description: c.description } : {}),
    alias: c.alias,
    can_read: true,
    can_write: false,
    media_types: [STIX_MEDIA_TYPE],
  };
}

function pageHeaders(reply: FastifyReply, page: Page): void {
  const first = page.rows[0];
  const last = page.rows[page.rows.length - 1];
  if (first && last) {
    void reply.header('x-taxii-date-added-first', first.date_added);
    void reply.header('x-taxii-date-added-last', last.date_added);
  }
}

function envelope(page: Page): string {
  const parts = [`"more":${page.more}`];
  if (page.next) parts.push(`"next":${JSON.stringify(page.next)}`);
  if (page.rows.length > 0) parts.push(`"objects":[${page.rows.map((r) => r.json).join(',')}]`);
  return `{${parts.join(',')}}`;
}

type Params = { id: string; objectId: string };

async function taxiiPlugin(app: FastifyInstance): Promise<void> {
  const db = app.ctx.db;
  app.setErrorHandler((err, req, reply) => {
    const status = isAppError(err)
      ? err.status
      : typeof (err as { statusCode?: unknown }).statusCode === 'number'
        ? Number((err as { statusCode: number }).statusCode)
        : 500;
    if (status >= 500) {
      req.log.error({ err }, 'TAXII request failed');
      app.ctx.metrics.errors.inc({ kind: 'http_5xx' });
      return sendError(reply, 500, 'The server could not answer; the failure is logged.');
    }
    app.ctx.metrics.errors.inc({ kind: 'http_4xx' });
    return sendError(reply, status, err instanceof Error ? err.message : 'The request was refused.');
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, `No TAXII endpoint ${req.method} ${req.url.split('?')[0]}.`),
  );
  // After the policy gate (preParsing): a caller without the right learns nothing, whatever it accepts.
  app.addHook('preHandler', async (req, reply) => {
    if (!acceptsTaxii(req.headers.accept))
      return sendError(reply, 406, `This server answers only in ${TAXII_MEDIA_TYPE}; send it in Accept.`);
  });
  app.addHook('onResponse', fetchRecorder('taxii', app.ctx.metrics, app.ctx.logger));

  const readable = async (req: FastifyRequest, idOrAlias: string): Promise<CollectionSpec> => {
    const c = await findCollection(db, idOrAlias);
    // A collection the caller may not read is answered as one that does not exist (§5.3: 404).
    if (!c || !mayRead(await readableCollections(db, req.principal), c.id))
      throw new AppError('NOT_FOUND', `No collection ${idOrAlias} readable with these credentials.`);
    noteFetch(req, c.alias);
    return c;
  };
  const opts = { prefixTrailingSlash: 'slash' as const };

  app.get('/', opts, async (_req, reply) => {
    const policy = policyFor(app.ctx.config);
    const base = `${app.publicUrl()}/taxii2/${API_ROOT}/`;
    return sendTaxii(
      reply,
      JSON.stringify({
        title: `${policy.instance.org} TAXII server`,
        description: 'Indicators of the spam, phishing and scam campaigns reported to this instance (read-only).',
        contact: policy.instance.contact,
        default: base,
        api_roots: [base],
      }),
    );
  });

  app.get(`/${API_ROOT}/`, opts, async (_req, reply) => {
    const policy = policyFor(app.ctx.config);
    return sendTaxii(
      reply,
      JSON.stringify({
        title: `${policy.instance.org} intelligence feeds`,
        description: 'Campaigns, indicators, sightings and relationships built from the reports and trace-backs.',
        versions: [TAXII_MEDIA_TYPE],
        max_content_length: 0,
      }),
    );
  });

  app.get(`/${API_ROOT}/collections/`, opts, async (req, reply) => {
    const can = await readableCollections(db, req.principal);
    const cols = (await listCollections(db)).filter((c) => mayRead(can, c.id));
    noteFetch(req, '-', cols.length);
    return sendTaxii(reply, JSON.stringify(cols.length > 0 ? { collections: cols.map(collectionResource) } : {}));
  });

  app.get<{ Params: Params }>(`/${API_ROOT}/collections/:id/`, opts, async (req, reply) => {
    const c = await readable(req, req.params.id);
    return sendTaxii(reply, JSON.stringify(collectionResource(c)));
  });

  app.get<{ Params: Params; Querystring: Record<string, unknown> }>(
    `/${API_ROOT}/collections/:id/objects/`,
    opts,
    async (req, reply) => {
      const c = await readable(req, req.params.id);
      const q = parseObjectQuery(req.query, { versionDefault: { kind: 'last' } });
      const page = await readPage(db, c.id, q);
      noteFetch(req, c.alias, page.rows.length);
      pageHeaders(reply, page);
      return sendTaxii(reply, envelope(page));
    },
  );

  app.get<{ Params: Params; Querystring: Record<string, unknown> }>(
    `/${API_ROOT}/collections/:id/objects/:objectId/`,
    opts,
    async (req, reply) => {
      const c = await readable(req, req.params.id);
      const q = parseObjectQuery(req.query, { versionDefault: { kind: 'last' } });
      if (!(await objectExists(db, c.id, req.params.objectId)))
        throw new AppError('NOT_FOUND', `No object ${req.params.objectId} in this collection.`);
      const page = await readPage(db, c.id, { ...q, ids: [req.params.objectId], types: [] });
      noteFetch(req, c.alias, page.rows.length);
      pageHeaders(reply, page);
      return sendTaxii(reply, envelope(page));
    },
  );

  app.get<{ Params: Params; Querystring: Record<string, unknown> }>(
    `/${API_ROOT}/collections/:id/objects/:objectId/versions/`,
    opts,
    async (req, reply) => {
      const c = await readable(req, req.params.id);
      const q = parseObjectQuery(req.query, { versionDefault: { kind: 'all' } });
      if (!(await objectExists(db, c.id, req.params.objectId)))
        throw new AppError('NOT_FOUND', `No object ${req.params.objectId} in this collection.`);
      const page = await readPage(db, c.id, { ...q, ids: [req.params.objectId], types: [], version: { kind: 'all' } });
      noteFetch(req, c.alias, page.rows.length);
      pageHeaders(reply, page);
      const body: Record<string, unknown> = { more: page.more };
      if (page.next) body.next = page.next;
      if (page.rows.length > 0) body.versions = page.rows.map((r) => r.version);
      return sendTaxii(reply, JSON.stringify(body));
    },
  );

  app.get<{ Params: Params; Querystring: Record<string, unknown> }>(
    `/${API_ROOT}/collections/:id/manifest/`,
    opts,
    async (req, reply) => {
      const c = await readable(req, req.params.id);
      const q = parseObjectQuery(req.query, { versionDefault: { kind: 'last' } });
      const page = await readPage(db, c.id, q);
      noteFetch(req, c.alias, page.rows.length);
      pageHeaders(reply, page);
      const body: Record<string, unknown> = { more: page.more };
      if (page.next) body.next = page.next;
      if (page.rows.length > 0)
        body.objects = page.rows.map((r) => ({
          id: r.object_id,
          date_added: r.date_added,
          version: r.version,
          media_type: STIX_MEDIA_TYPE,
        }));
      return sendTaxii(reply, JSON.stringify(body));
    },
  );
}

/** Route plugin of the TAXII server (registered by the feeds area). */
export async function taxiiRoutes(app: FastifyInstance): Promise<void> {
  await app.register(taxiiPlugin, { prefix: '/taxii2' });
}
