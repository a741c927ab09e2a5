/**
 * The MISP feed of each collection, under `/feeds/misp/<collection>/` (alias or id): what a MISP
 * instance reads when an administrator adds the feed by URL (Sync Actions → Feeds → Add feed,
 * source format "MISP Feed", with an `Authorization: Bearer sdk_…` header):
 *
 * - `manifest.json`: every event's uuid with its info, Orgc, analysis, threat level, date,
 *   timestamp and tags, and `integrity:sha256` of the event file (MISP core format §Manifest);
 * - `<uuid>.json`: one event `{"Event": {…}}` per campaign;
 * - `hashes.csv`: `md5(value),event uuid` per live attribute, for MISP's feed cache and correlation.
 *
 * Answers carry an `ETag` (a strong hash of the body) and honour `If-None-Match`.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { findCollection, mayRead, readableCollections, type CollectionSpec } from './collections.ts';
import { fetchRecorder, noteFetch } from './fetch-log.ts';

interface StoredAttribute {
  value: string;
  deleted?: boolean;
}
interface StoredEvent {
  Event: Record<string, unknown> & { uuid: string; Attribute?: StoredAttribute[] };
}

const UUID_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json$/;
const MANIFEST_FIELDS = ['info', 'Orgc', 'analysis', 'threat_level_id', 'timestamp', 'date', 'Tag'] as const;

function send(req: FastifyRequest, reply: FastifyReply, type: string, body: string): FastifyReply {
  const etag = `"${createHash('sha256').update(body).digest('base64url')}"`;
  void reply.header('etag', etag).header('cache-control', 'private, no-cache').header('vary', 'Authorization');
  if (req.headers['if-none-match'] === etag) return reply.status(304).send();
  return reply.type(type).send(body);
}

export async function mispRoutes(app: FastifyInstance): Promise<void> {
  const db = app.ctx.db;
  app.addHook('onResponse', fetchRecorder('misp', app.ctx.metrics, app.ctx.logger));

  const readable = async (req: FastifyRequest, idOrAlias: string): Promise<CollectionSpec> => {
    const c = await findCollection(db, idOrAlias);
    if (!c || !mayRead(await readableCollections(db, req.principal), c.id))
      throw new AppError('NOT_FOUND', `No collection ${idOrAlias} readable with these credentials.`);
    noteFetch(req, c.alias);
    return c;
  };
  const events = (collectionId: string) =>
    db
      .selectFrom('intel_misp_events')
      .select(['uuid', 'json'])
      .where('collection_id', '=', collectionId)
      .orderBy('uuid')
      .execute();
  const params = {
    type: 'object',
    properties: { collection: { type: 'string', maxLength: 64 }, file: { type: 'string', maxLength: 64 } },
  } as const;

  app.get<{ Params: { collection: string } }>(
    '/feeds/misp/:collection/manifest.json',
    {
      schema: {
        summary: 'MISP feed manifest of an intel collection (MISP core format)',
        tags: ['feeds'],
        params,
      },
    },
    async (req, reply) => {
      const c = await readable(req, req.params.collection);
      const rows = await events(c.id);
      const manifest: Record<string, Record<string, unknown>> = {};
      for (const r of rows) {
        const e = (JSON.parse(r.json) as StoredEvent).Event;
        const entry: Record<string, unknown> = {};
        for (const f of MANIFEST_FIELDS) if (e[f] !== undefined) entry[f] = e[f];
        entry['integrity:sha256'] = createHash('sha256').update(r.json).digest('hex');
        manifest[r.uuid] = entry;
      }
      noteFetch(req, c.alias, rows.length);
      return send(req, reply, 'application/json; charset=utf-8', JSON.stringify(manifest));
    },
  );

  app.get<{ Params: { collection: string } }>(
    '/feeds/misp/:collection/hashes.csv',
    { schema: { summary: 'MISP feed hashes: md5 of each live attribute value, event uuid', tags: ['feeds'], params } },
    async (req, reply) => {
      const c = await readable(req, req.params.collection);
      const lines: string[] = [];
      for (const r of await events(c.id)) {
        const e = (JSON.parse(r.json) as StoredEvent).Event;
        for (const a of e.Attribute ?? [])
          if (!a.deleted) lines.push(`${createHash('md5').update(a.value).digest('hex')},${r.uuid}`);
      }
      noteFetch(req, c.alias, lines.length);
      return send(req, reply, 'text/csv; charset=utf-8', lines.length > 0 ? `${lines.join('\n')}\n` : '');
    },
  );

  app.get<{ Params: { collection: string; file: string } }>(
    '/feeds/misp/:collection/:file',
    { schema: { summary: 'One MISP event of an intel collection (`<uuid>.json`)', tags: ['feeds'], params } },
    async (req, reply) => {
      const c = await readable(req, req.params.collection);
      const m = UUID_FILE.exec(req.params.file);
      if (!m) throw new AppError('NOT_FOUND', 'A MISP feed holds manifest.json, hashes.csv and <uuid>.json files.');
      const row = await db
        .selectFrom('intel_misp_events')
        .select('json')
        .where('collection_id', '=', c.id)
        .where('uuid', '=', m[1] ?? '')
        .executeTakeFirst();
      if (!row) throw new AppError('NOT_FOUND', `No event ${m[1]} in this feed.`);
      noteFetch(req, c.alias, 1);
      return send(req, reply, 'application/json; charset=utf-8', row.json);
    },
  );
}
