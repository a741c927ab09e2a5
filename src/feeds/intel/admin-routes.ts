/**
 * Managing the intel collections over the API (admin, `intel:manage`): list, create and change
 * collections (TLP level, categories, kinds, threshold), grant a partner's or network operator's
 * token or account read access, list and revoke grants. Every change is audited. Plus the current
 * content of a collection as one STIX 2.1 bundle, for readers that do not speak TAXII.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { principalLabel } from '../../core/roles.ts';
import { authorize } from '../../core/policy.ts';
import { writeAudit } from '../../evidence/audit.ts';
import {
  createCollection,
  findCollection,
  grantAccess,
  listCollections,
  listGrants,
  mayRead,
  readableCollections,
  revokeGrant,
  updateCollection,
  type CollectionSpec,
} from './collections.ts';
import type { IntelGrant } from '../../db/intel-tables.ts';
import { fetchRecorder, noteFetch } from './fetch-log.ts';
import { currentObjects } from './bundle.ts';

const MAX_GRANTS_PAGE = 500;

function grantView(g: IntelGrant) {
  return {
    id: g.id,
    collectionId: g.collection_id,
    tokenId: g.token_id,
    userId: g.user_id,
    grantedBy: g.granted_by,
    grantedAt: g.granted_at,
    revokedAt: g.revoked_at,
  };
}

function collectionView(c: CollectionSpec) {
  return { ...c, taxii: `/taxii2/spamdesk/collections/${c.id}/`, misp: `/feeds/misp/${c.alias}/` };
}

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
  required: ['id'],
} as const;

export async function intelAdminRoutes(app: FastifyInstance): Promise<void> {
  const db = app.ctx.db;

  app.get(
    '/api/v1/intel/collections',
    { schema: { summary: 'Intel collections (TAXII collections and MISP feeds)', tags: ['feeds'] } },
    async (req) => {
      authorize(req.principal, 'intel:manage');
      // A handful by nature (one per audience and marking): every one, no paging needed.
      return { collections: (await listCollections(db)).map(collectionView) };
    },
  );

  app.post(
    '/api/v1/intel/collections',
    {
      schema: {
        summary: 'Create an intel collection',
        description:
          'Body: `{alias, title, description?, tlp? (white|green|amber|red, default amber), categories? (abusive ' +
          'categories, empty: all), kinds? (ip, domain, url, email, phone, wallet), minReports? (default 1)}`.',
        tags: ['feeds'],
      },
    },
    async (req, reply) => {
      authorize(req.principal, 'intel:manage');
      const c = await createCollection(db, req.body);
      await writeAudit(db, {
        actor: principalLabel(req.principal),
        action: 'intel.collection.create',
        subject: `intel-collection:${c.id}`,
        ip: req.ip,
        detail: { alias: c.alias, tlp: c.tlp, categories: c.categories, kinds: c.kinds, minReports: c.minReports },
      });
      return reply.status(201).send(collectionView(c));
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/intel/collections/:id',
    {
      schema: {
        summary: 'Change an intel collection (title, description, tlp, categories, kinds, minReports)',
        tags: ['feeds'],
        params: idParams,
      },
    },
    async (req) => {
      authorize(req.principal, 'intel:manage');
      const before = await findCollection(db, req.params.id);
      const c = await updateCollection(db, req.params.id, req.body);
      await writeAudit(db, {
        actor: principalLabel(req.principal),
        action: 'intel.collection.update',
        subject: `intel-collection:${c.id}`,
        ip: req.ip,
        detail: { before, after: c },
      });
      return collectionView(c);
    },
  );

  app.get<{ Params: { id: string }; Querystring: { after?: string; limit?: number } }>(
    '/api/v1/intel/collections/:id/grants',
    {
      schema: {
        summary: 'Grants of a collection (live and revoked), oldest first; page with `after`',
        tags: ['feeds'],
        params: idParams,
        querystring: {
          type: 'object',
          properties: {
            after: { type: 'string', maxLength: 32 },
            limit: { type: 'integer', minimum: 1, maximum: MAX_GRANTS_PAGE, default: 100 },
          },
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      authorize(req.principal, 'intel:manage');
      const c = await findCollection(db, req.params.id);
      if (!c) throw new AppError('NOT_FOUND', 'No such collection.');
      const limit = req.query.limit ?? 100;
      const rows = await listGrants(db, c.id, { after: req.query.after, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { grants: page.map(grantView), next: rows.length > limit && last ? last.id : null };
    },
  );

  app.post<{ Params: { id: string }; Body: { tokenId?: string; userId?: string } }>(
    '/api/v1/intel/collections/:id/grants',
    {
      schema: {
        summary: 'Grant a token or an account read access to a collection',
        tags: ['feeds'],
        params: idParams,
        body: {
          type: 'object',
          properties: { tokenId: { type: 'string', maxLength: 32 }, userId: { type: 'string', maxLength: 32 } },
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      authorize(req.principal, 'intel:manage');
      const c = await findCollection(db, req.params.id);
      if (!c) throw new AppError('NOT_FOUND', 'No such collection.');
      const g = await grantAccess(db, c.id, req.body ?? {}, principalLabel(req.principal));
      await writeAudit(db, {
        actor: principalLabel(req.principal),
        action: 'intel.grant',
        subject: `intel-collection:${c.id}`,
        ip: req.ip,
        detail: { grant: g.id, tokenId: g.token_id, userId: g.user_id },
      });
      return reply.status(201).send(grantView(g));
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/intel/grants/:id/revoke',
    { schema: { summary: 'Revoke a grant', tags: ['feeds'], params: idParams } },
    async (req) => {
      authorize(req.principal, 'intel:manage');
      const g = await revokeGrant(db, req.params.id);
      await writeAudit(db, {
        actor: principalLabel(req.principal),
        action: 'intel.grant.revoke',
        subject: `intel-collection:${g.collection_id}`,
        ip: req.ip,
        detail: { grant: g.id, tokenId: g.token_id, userId: g.user_id },
      });
      return grantView(g);
    },
  );

  await app.register(async (bundleApp) => {
    bundleApp.addHook('onResponse', fetchRecorder('stix', app.ctx.metrics, app.ctx.logger));
    bundleApp.get<{ Params: { id: string } }>(
      '/api/v1/intel/collections/:id/bundle',
      {
        schema: {
          summary: 'The current content of a collection as one STIX 2.1 bundle (revoked objects left out)',
          tags: ['feeds'],
          params: idParams,
        },
      },
      async (req, reply) => {
        authorize(req.principal, 'intel:read');
        const c = await findCollection(db, req.params.id);
        if (!c || !mayRead(await readableCollections(db, req.principal), c.id))
          throw new AppError('NOT_FOUND', 'No collection of that name readable with these credentials.');
        const { body, count } = await currentObjects(db, c.id);
        noteFetch(req, c.alias, count);
        return reply.type('application/stix+json;version=2.1').send(body);
      },
    );
  });
}
