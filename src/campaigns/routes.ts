/**
 * Campaign routes: `POST /api/v1/lookup` (fuzzy look-up for mail filters: raw message in,
 * matching campaigns out, never reporters), `GET /api/v1/campaigns/:id` (a campaign's story;
 * a merged id redirects to the survivor), `POST /api/v1/reports/:id/relabel` (an analyst
 * corrects a report's category; training data for the next `npm run train`) and
 * `POST /api/v1/campaigns/:id/relabel` (the same for every message of a campaign). Each route:
 * validate → authorise → act → present.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { authorize } from '../core/policy.ts';
import { principalLabel } from '../core/roles.ts';
import { CATEGORIES } from '../analysis/classify/categories.ts';
import { MAX_CAMPAIGN_RELABEL, relabelCampaign, relabelReport } from './relabel.ts';
import { analysisSettingsFrom } from '../analysis/settings.ts';
import { AnalysisPool } from '../analysis/pool.ts';
import { lookupMessage } from './lookup.ts';
import { openSqliteMatchReads, type SqliteMatchReads } from './match-reads.ts';
import { siblingModule } from '../core/ts-worker.ts';
import { getCampaignStory, storyFor } from './story.ts';
import { writeAudit } from '../evidence/audit.ts';

/**
 * Look-ups allowed to wait per look-up thread; past it, 503 (retry later) rather than an unbounded
 * queue. A look-up takes its thread about a millisecond, so 16 waiting cost at most ≈ 16 ms of
 * queueing — and 16 filter connections at once (the bench's load) are served, not refused (at 4,
 * more than half of them got 503).
 */
const LOOKUPS_WAITING_PER_THREAD = 16;

const jsonBody = z.object({
  raw: z
    .string()
    .min(1, 'raw must not be empty')
    .regex(/^[A-Za-z0-9+/=\r\n]+$/, 'raw must be base64'),
});

const matchSchema = {
  type: 'object',
  properties: {
    campaignId: { type: 'string' },
    similarity: { type: 'number' },
    matchedBy: { type: 'array', items: { type: 'string' } },
    category: { type: ['string', 'null'] },
    reportCount: { type: 'integer' },
    messageCount: { type: 'integer' },
    firstSeen: { type: 'string' },
    lastSeen: { type: 'string' },
  },
} as const;

export async function campaignRoutes(app: FastifyInstance): Promise<void> {
  const limit = app.ctx.config.maxMessageBytes;
  const config = app.ctx.config;
  // Look-ups are analysed in threads of their own, started on the first one, so a hostile message
  // never runs on the thread that answers HTTP (and SMTP), and is stopped at the time and memory bounds.
  let pool: AnalysisPool | null = null;
  const lookupPool = (): AnalysisPool =>
    (pool ??= new AnalysisPool({
      size: config.lookupWorkers,
      settings: analysisSettingsFrom(config),
      heapMb: config.analysisHeapMb,
      minThreads: config.analysisMinThreads,
      retireIdleMs: config.analysisIdleSeconds * 1000,
      offline: true,
      reducer: siblingModule('./lookup-print.ts', import.meta.url),
    }));
  // On SQLite the look-up's index reads run on a read-only connection of their own, without the
  // query builder (match-reads.ts); opened with the first look-up. PostgreSQL reads through Kysely.
  let reads: SqliteMatchReads | null = null;
  const db = config.database;
  const matchReads = (): SqliteMatchReads | null => {
    if (db.dialect !== 'sqlite' || db.path === ':memory:') return null;
    reads ??= openSqliteMatchReads(db.path);
    return reads;
  };
  app.addHook('onClose', async () => {
    await pool?.close();
    pool = null;
    reads?.close();
    reads = null;
  });
  // Raw bodies as exact bytes (this plugin's own parser: content-type parsers are encapsulated).
  app.addContentTypeParser(
    ['message/rfc822', 'application/octet-stream'],
    { parseAs: 'buffer', bodyLimit: limit },
    (_req, body, done) => done(null, body),
  );

  app.post(
    '/api/v1/lookup',
    {
      bodyLimit: Math.ceil((limit * 4) / 3) + 1024,
      schema: {
        summary: 'Has the public reported this message? Matching campaigns with similarity, category and report count',
        description:
          'Body: the raw message as `message/rfc822` (or `application/octet-stream`), or JSON `{ "raw": "<base64>" ' +
          '}`. Needs an API token with the `lookup:query` permission. The answer names campaigns only, never reports ' +
          'or reporters; `similarity` is the estimated Jaccard similarity of the normalised text (0 when matched by ' +
          'a strong link only: same advertised domain, phone, wallet or attachment).',
        tags: ['campaigns'],
        consumes: ['message/rfc822', 'application/octet-stream', 'application/json'],
        response: {
          200: {
            type: 'object',
            properties: { matches: { type: 'array', items: matchSchema }, tokens: { type: 'integer' } },
          },
        },
      },
    },
    async (req) => {
      authorize(req.principal, 'lookup:query');
      let raw: Buffer;
      if (Buffer.isBuffer(req.body)) {
        raw = req.body;
      } else {
        const parsed = jsonBody.safeParse(req.body);
        if (!parsed.success)
          throw new AppError(
            'BAD_REQUEST',
            parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
          );
        raw = Buffer.from(parsed.data.raw, 'base64');
      }
      if (raw.length === 0) throw new AppError('BAD_REQUEST', 'The message is empty.');
      if (raw.length > limit)
        throw new AppError('MESSAGE_TOO_LARGE', `The message is larger than the configured limit of ${limit} bytes.`);
      const p = lookupPool();
      if (p.pending >= LOOKUPS_WAITING_PER_THREAD * p.size)
        throw new AppError('UNAVAILABLE', 'Too many look-ups are waiting; retry later.');
      return lookupMessage(app.ctx.db, p, raw, matchReads());
    },
  );

  app.post<{ Params: { id: string }; Body: { category: string } }>(
    '/api/v1/reports/:id/relabel',
    {
      schema: {
        summary:
          'Relabel a report’s category (analysts): stored with who and when, audited, used by the next `npm run train`',
        description:
          'The relabel outranks the automatic verdict in the report view (which stays visible) and belongs to the ' +
          'message: every report of the same message shows it. Needs the `report:relabel` permission (admin, analyst).',
        tags: ['campaigns'],
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        body: {
          type: 'object',
          properties: { category: { type: 'string', enum: [...CATEGORIES] } },
          required: ['category'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              reportId: { type: 'string' },
              sha256: { type: 'string' },
              category: { type: 'string' },
              previousCategory: { type: ['string', 'null'] },
              actor: { type: 'string' },
              at: { type: 'string' },
            },
          },
        },
      },
    },
    async (req) => {
      authorize(req.principal, 'report:relabel');
      const result = await relabelReport(app.ctx.db, req.params.id, req.body.category, principalLabel(req.principal));
      // The workbench list and roll-ups show the category in force: re-index the report at once, as the web form does.
      await app.reindexReports([result.reportId]);
      return result;
    },
  );

  app.post<{
    Params: { id: string };
    Body: { category: string; includeLegitimate?: boolean; includeRelabelled?: boolean; dryRun?: boolean };
  }>(
    '/api/v1/campaigns/:id/relabel',
    {
      schema: {
        summary:
          'Relabel the messages of a campaign that are not yet of this category (analysts): each on its latest ' +
          'report as one relabel is, the campaign recounted, audited once as campaign.relabel',
        description:
          'For a campaign an analyst has read and found to be one thing (a commercial campaign the classifier called ' +
          'scam in a few copies, which the gates hold for the mix). A merged id stands for its survivor. Messages ' +
          'classified legitimate and messages an analyst relabelled one by one are kept unless includeLegitimate / ' +
          'includeRelabelled; dryRun answers what would change without changing it. More than ' +
          `${MAX_CAMPAIGN_RELABEL} messages: 400. Needs \`report:relabel\` (admin, analyst).`,
        tags: ['campaigns'],
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 32 } }, required: ['id'] },
        body: {
          type: 'object',
          properties: {
            category: { type: 'string', enum: [...CATEGORIES] },
            includeLegitimate: { type: 'boolean' },
            includeRelabelled: { type: 'boolean' },
            dryRun: { type: 'boolean' },
          },
          required: ['category'],
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      authorize(req.principal, 'report:relabel');
      const { category, includeLegitimate, includeRelabelled, dryRun } = req.body;
      const r = await relabelCampaign(app.ctx.db, req.params.id, category, principalLabel(req.principal), {
        includeLegitimate,
        includeRelabelled,
        dryRun,
        ip: req.ip,
      });
      // In parts: one index transaction (and one IN-list) per 500 reports, however many a message has.
      for (let i = 0; i < r.reportIds.length; i += 500) await app.reindexReports(r.reportIds.slice(i, i + 500));
      const { reportIds: _reports, ...out } = r;
      return out;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/campaigns/:id',
    {
      schema: {
        summary:
          'A campaign’s story: first/last seen, reports by day, categories, subjects, senders, origins, domains, ' +
          'phones, wallets',
        tags: ['campaigns'],
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 32 } }, required: ['id'] },
      },
    },
    async (req) => {
      authorize(req.principal, 'campaign:read');
      const story = await getCampaignStory(app.ctx.db, req.params.id);
      if (!story) throw new AppError('NOT_FOUND', 'No such campaign.');
      await writeAudit(app.ctx.db, {
        actor: principalLabel(req.principal),
        action: 'campaign.view',
        subject: `campaign:${story.id}`,
        ip: req.ip,
        detail: { via: 'api' },
      });
      return storyFor(req.principal, story);
    },
  );
}
