/**
 * HTTP intake: `POST /api/v1/reports` (raw `message/rfc822`, multipart `.eml` upload, or JSON
 * `{raw: base64, note?}`), `GET /api/v1/reports/:id`, `GET /api/v1/messages/:sha256/raw`.
 * Each route: validate → authorise (policy) → act (service) → present.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize, can } from '../../core/policy.ts';
import { principalLabel } from '../../core/roles.ts';
import { SHA256_RE, sha256Hex } from '../../core/ids.ts';
import { assertEmailMessage } from '../../evidence/message-check.ts';
import { getMessageRaw, type PreparedMessage } from '../../evidence/store.ts';
import { writeAudit } from '../../evidence/audit.ts';
import type { Channel, ReportInput } from '../../evidence/report-writer.ts';
import { getReportView } from './report-view.ts';
import { uploadError } from './upload-errors.ts';
import type { MailThreads } from '../smtp/mail-threads.ts';
import { INLINE_MAX_BYTES } from '../smtp/take-apart.ts';
import {
  assertMessageSize,
  jsonUploadParser,
  MAX_NOTE_CHARS,
  readJsonSubmission,
  UndecodedJson,
} from './json-submission.ts';

/** Most files one multipart upload may carry. */
export const MAX_FILES_PER_UPLOAD = 100;

/** Longest accepted `Idempotency-Key` (the IETF httpapi draft leaves the length to the server). */
export const MAX_IDEMPOTENCY_KEY_CHARS = 255;

const submitResponse = {
  type: 'object',
  properties: {
    reports: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          sha256: { type: 'string' },
          size: { type: 'integer' },
          duplicate: { type: 'boolean' },
          trackingUrl: { type: 'string' },
        },
      },
    },
  },
} as const;

const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    statusCode: { type: 'integer' },
    // e.g. a 413's `limitBytes`: without it here the serializer would drop what intake.md promises.
    details: { type: 'object', additionalProperties: true },
  },
} as const;

export async function reportRoutes(app: FastifyInstance): Promise<void> {
  const { config } = app.ctx;
  const limit = config.maxMessageBytes;
  // Large messages are checked, hashed and compressed in a thread (as SMTP's large mails are), so
  // a burst of 25 MB uploads does not hold up every other request on the event loop (issue 15).
  const threads = app.mailThreads;
  // JSON bodies past INLINE_MAX_BYTES are decoded there too (json-submission.ts).
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, jsonUploadParser(app));
  // Raw bodies: the exact bytes, never re-encoded.
  app.addContentTypeParser(
    ['message/rfc822', 'application/octet-stream'],
    { parseAs: 'buffer', bodyLimit: limit },
    (_req, body, done) => done(null, body),
  );

  app.post(
    '/api/v1/reports',
    {
      // JSON carries base64 (4/3 of the raw size) plus a note.
      bodyLimit: totalLimit(limit),
      config: { rateLimit: anonymousRateLimit(app) },
      schema: {
        summary: 'Report one or more spam messages',
        description:
          'Body: the raw message as `message/rfc822`; or `multipart/form-data` with one or more `.eml` files (and an ' +
          'optional `note` field); or JSON `{ "raw": "<base64>", "note": "…" }`. Answers 202 only after the evidence ' +
          'is durably committed. Without a token the call is rate-limited per client; a reporter token ties the ' +
          'report to its owner.',
        tags: ['reports'],
        consumes: ['message/rfc822', 'multipart/form-data', 'application/json'],
        headers: {
          type: 'object',
          properties: {
            'idempotency-key': {
              type: 'string',
              maxLength: MAX_IDEMPOTENCY_KEY_CHARS,
              description:
                'Client-chosen unique key (e.g. a UUID). Retrying a submission with the same key returns the reports ' +
                'stored the first time (`duplicate: true`) instead of storing new ones; the same key with different ' +
                'messages answers 409.',
            },
          },
        },
        response: {
          202: submitResponse,
          400: errorSchema,
          401: errorSchema,
          409: errorSchema,
          413: errorSchema,
          415: errorSchema,
          429: errorSchema,
        },
      },
    },
    async (req, reply) => {
      authorize(req.principal, 'report:submit');
      const idempotencyKey = readIdempotencyKey(req);
      const items = await readSubmission(req, limit, threads);
      const scope = principalScope(req);
      const messages = await Promise.all(items.map((it) => prepareLarge(threads, it)));
      // No property after a spread: V8 takes a slow path for them (`{ ...message, channel, … }` took
      // ~8 µs per report, the fields first then one spread last 0.3 µs).
      const keyHash = idempotencyKey === null ? null : sha256Hex(idempotencyKey);
      const inputs: ReportInput[] = items.map((it, i) => {
        const fields = {
          channel: it.channel,
          note: it.note,
          reporterUserId: req.principal.kind === 'anonymous' ? null : req.principal.userId,
          reporterTokenId: req.principal.kind === 'token' ? req.principal.tokenId : null,
          clientIp: req.ip,
          context: it.filename ? { filename: it.filename } : null,
          // One key covers the whole submission; the n-th message of a retried upload maps to the
          // n-th stored report. Scoped per caller so two clients never collide on a key.
          dedupKey: keyHash === null ? null : `idem:${scope}:${keyHash}:${i}`,
          dedupRequiresSameMessage: keyHash !== null,
        };
        const m = messages[i];
        return m.prepared ? { prepared: m.prepared, ...fields } : { raw: m.raw, ...fields };
      });
      const stored = await app.ctx.writer.submit(inputs);
      const base = app.publicUrl();
      return reply.status(202).send({
        reports: stored.map((r) => ({
          id: r.id,
          sha256: r.sha256,
          size: r.size,
          duplicate: r.duplicate,
          trackingUrl: `${base}/track/${r.trackingToken}`,
        })),
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/reports/:id',
    {
      schema: {
        summary: 'A report: metadata, evidence reference and analysis',
        tags: ['reports'],
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 32 } }, required: ['id'] },
      },
    },
    async (req) => {
      const view = await getReportView(app.ctx.db, req.params.id, app.reportViewParts);
      if (!view) throw new AppError('NOT_FOUND', 'No such report.');
      const own =
        req.principal.kind !== 'anonymous' &&
        req.principal.userId !== null &&
        view.reporterUserId === req.principal.userId;
      const ownToken = req.principal.kind === 'token' && view.reporterTokenId === req.principal.tokenId;
      if (!can(req.principal, 'report:read-any')) {
        if (!(own || ownToken)) {
          authorize(req.principal, 'report:read-any');
        }
      }
      // The full parsed text of the evidence: every read is in the audit chain.
      await writeAudit(app.ctx.db, {
        actor: principalLabel(req.principal),
        action: 'evidence.view-report',
        subject: `report:${req.params.id}`,
        ip: req.ip,
        detail: { via: 'api' },
      });
      return view.present(can(req.principal, 'report:read-any'));
    },
  );

  app.get<{ Params: { sha256: string } }>(
    '/api/v1/messages/:sha256/raw',
    {
      schema: {
        summary: 'The exact raw bytes of a reported message (analyst or admin; audited)',
        tags: ['evidence'],
        params: {
          type: 'object',
          properties: { sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
          required: ['sha256'],
        },
        produces: ['message/rfc822'],
      },
    },
    async (req, reply) => {
      authorize(req.principal, 'evidence:read-raw');
      if (!SHA256_RE.test(req.params.sha256))
        throw new AppError('BAD_REQUEST', 'sha256 must be 64 lower-case hex digits.');
      const raw = await getMessageRaw(app.ctx.db, req.params.sha256);
      if (!raw) throw new AppError('NOT_FOUND', 'No such message.');
      await writeAudit(app.ctx.db, {
        actor: principalLabel(req.principal),
        action: 'evidence.download',
        subject: `message:${req.params.sha256}`,
        ip: req.ip,
      });
      return reply
        .type('message/rfc822')
        .header('content-disposition', `attachment; filename="${req.params.sha256}.eml"`)
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('digest', `sha-256=${Buffer.from(req.params.sha256, 'hex').toString('base64')}`)
        .send(raw);
    },
  );
}

interface SubmittedItem {
  /** The message's bytes, or (a large JSON upload) the message already prepared in a mail thread. */
  raw: Buffer | PreparedMessage;
  note: string | null;
  filename: string | null;
  channel: Channel;
}

/** Reads and validates every message of a submission; any bad one rejects the whole request. */
async function readSubmission(req: FastifyRequest, limit: number, threads: MailThreads): Promise<SubmittedItem[]> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const channel = serverChannel(req);
  if (type === 'message/rfc822' || type === 'application/octet-stream') {
    const raw = req.body as Buffer;
    check(raw, limit, null);
    return [{ raw, note: null, filename: null, channel }];
  }
  if (type === 'application/json') {
    if (req.body instanceof UndecodedJson) {
      const { prepared, note } = await threads.prepareJson(req.body.bytes, limit);
      return [{ raw: prepared, note, filename: null, channel }];
    }
    const { raw, note } = readJsonSubmission(req.body);
    check(raw, limit, null);
    return [{ raw, note, filename: null, channel }];
  }
  if (type === 'multipart/form-data') {
    const items: SubmittedItem[] = [];
    let note: string | null = null;
    let total = 0;
    try {
      for await (const part of req.parts({
        limits: { fileSize: limit, files: MAX_FILES_PER_UPLOAD, fields: 10, fieldSize: MAX_NOTE_CHARS * 4 },
      })) {
        if (part.type === 'file') {
          const raw = await part.toBuffer();
          check(raw, limit, part.filename || null);
          // Several files may each be under the limit; together they must fit the request limit too.
          total += raw.length;
          if (total > totalLimit(limit)) {
            throw new AppError('MESSAGE_TOO_LARGE', `The upload is larger than ${totalLimit(limit)} bytes in total.`, {
              limitBytes: totalLimit(limit),
            });
          }
          items.push({ raw, note: null, filename: part.filename || null, channel });
        } else if (part.fieldname === 'note' && typeof part.value === 'string') {
          note = part.value.slice(0, MAX_NOTE_CHARS);
        }
      }
    } catch (e) {
      throw uploadError(e);
    }
    if (items.length === 0)
      throw new AppError(
        'BAD_REQUEST',
        'The upload holds no file: send the messages as file parts (e.g. `-F file=@spam.eml`).',
      );
    return items.map((i) => ({ ...i, note }));
  }
  throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send message/rfc822, multipart/form-data or application/json.');
}

/** `X-Spamdesk-Client` values of the report buttons (`addon/`): Thunderbird, Outlook, webmail extension. */
export const ADDON_CLIENTS: ReadonlySet<string> = new Set(['thunderbird', 'outlook', 'webmail']);

/**
 * The channel of a report sent to this route, decided by the server: `addon` for a token holder
 * sending as one of the report buttons does ({@link ADDON_CLIENTS}), `api` for everything else.
 * Never `web` (the web form has its own route) nor any other channel a client might name in its body.
 */
export function serverChannel(req: FastifyRequest): Channel {
  const client = req.headers['x-spamdesk-client'];
  return req.principal.kind === 'token' && typeof client === 'string' && ADDON_CLIENTS.has(client) ? 'addon' : 'api';
}

/** Bound on all files of one multipart upload together (and on a JSON body: base64 plus note). */
export function totalLimit(limit: number): number {
  return Math.ceil((limit * 4) / 3) + 64 * 1024;
}

/** The `Idempotency-Key` header, or null; 400 when present but unusable. */
function readIdempotencyKey(req: FastifyRequest): string | null {
  const v = req.headers['idempotency-key'];
  if (v === undefined) return null;
  const key = Array.isArray(v) ? v.join(',') : v;
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_CHARS || !/^[\x21-\x7e]+$/.test(key)) {
    throw new AppError(
      'BAD_REQUEST',
      `Idempotency-Key must be 1–${MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters without spaces.`,
    );
  }
  return key;
}

/** Who an idempotency key belongs to: the token, the signed-in user, or the client address. */
function principalScope(req: FastifyRequest): string {
  const p = req.principal;
  if (p.kind === 'token') return `t:${p.tokenId}`;
  if (p.kind === 'session') return `u:${p.userId}`;
  return `ip:${req.ip}`;
}

/**
 * The message of one item for the writer: as it is, or, past {@link INLINE_MAX_BYTES}, checked,
 * hashed and compressed in a thread (its bytes are moved there). Rejects as {@link check} does.
 */
async function prepareLarge(
  threads: MailThreads,
  it: SubmittedItem,
): Promise<{ raw: Buffer; prepared?: undefined } | { raw?: undefined; prepared: PreparedMessage }> {
  if (!Buffer.isBuffer(it.raw)) return { prepared: it.raw };
  if (it.raw.length <= INLINE_MAX_BYTES) return { raw: it.raw };
  try {
    return { prepared: await threads.prepare(it.raw) };
  } catch (e) {
    if (e instanceof AppError && it.filename) throw new AppError(e.code, `${it.filename}: ${e.message}`);
    throw e;
  }
}

/** The size limit; the e-mail check too for a message small enough to be handled here ({@link prepareLarge}). */
function check(raw: Buffer, limit: number, filename: string | null): void {
  assertMessageSize(raw, limit, filename);
  if (raw.length > INLINE_MAX_BYTES) return;
  try {
    assertEmailMessage(raw);
  } catch (e) {
    if (e instanceof AppError && filename) throw new AppError(e.code, `${filename}: ${e.message}`);
    throw e;
  }
}

/** Per-client limit for callers without a token; token holders are not limited here. */
function anonymousRateLimit(app: FastifyInstance) {
  return {
    max: app.ctx.config.anonRateLimit,
    timeWindow: 60_000,
    keyGenerator: (req: FastifyRequest) => req.ip,
    allowList: (req: FastifyRequest) => req.principal.kind !== 'anonymous',
  };
}
