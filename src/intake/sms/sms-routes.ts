/**
 * HTTP routes of the SMS intake:
 * - `POST /api/v1/sms-reports` — one SMS reported by a person or an app (JSON);
 * - `POST /api/v1/sms-gateway` — the generic SMS-gateway webhook (JSON or form-encoded),
 *   authenticated with an API token (`Authorization: Bearer`, `X-Spamdesk-Token` or `?token=`
 *   for gateways that can only call a fixed URL).
 * Each route: validate → authorise (policy) → act (service) → present.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { findToken } from '../../db/tokens.ts';
import { isRole, type Principal } from '../../core/roles.ts';
import {
  handleGatewayMessage,
  MAX_SMS_CHARS,
  normaliseSender,
  smsReportInput,
  toE164,
  toIsoOrNull,
} from './sms-intake.ts';

const MAX_NOTE_CHARS = 4000;

const smsReportBody = z.object({
  sender: z.string().min(1, 'sender must not be empty').max(64),
  text: z.string().min(1, 'text must not be empty').max(MAX_SMS_CHARS),
  receivedAt: z.string().max(64).optional(),
  reporterNumber: z.string().max(32).optional(),
  note: z.string().max(MAX_NOTE_CHARS).optional(),
});

/** Field names gateways use, mapped to ours (Twilio, Vonage/Nexmo, Kannel, generic). */
const gatewayBody = z.object({
  from: z.string().min(1).max(64),
  text: z.string().max(MAX_SMS_CHARS),
  to: z.string().max(64).nullable(),
  receivedAt: z.string().max(64).nullable(),
  sender: z.string().max(64).nullable(),
  messageId: z.string().max(200).nullable(),
});

const reportsResponse = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    reply: { type: 'string' },
    reports: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          sha256: { type: 'string' },
          duplicate: { type: 'boolean' },
          trackingUrl: { type: 'string' },
        },
      },
    },
  },
} as const;

export async function smsRoutes(app: FastifyInstance): Promise<void> {
  // Gateways often post HTML-form encoding; parse it here unless the app already does.
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) {
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 256 * 1024 },
      (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))));
      },
    );
  }

  app.post(
    '/api/v1/sms-reports',
    {
      config: {
        rateLimit: {
          max: app.ctx.config.anonRateLimit,
          timeWindow: 60_000,
          keyGenerator: (req: FastifyRequest) => req.ip,
          allowList: (req: FastifyRequest) => req.principal.kind !== 'anonymous',
        },
      },
      schema: {
        summary: 'Report a spam SMS',
        description:
          'JSON `{ "sender": "+33612345678" | "ALPHASENDER", "text": "…", "receivedAt": "2026-11-23T10:00:00Z", ' +
          '"reporterNumber": "+33698765432", "note": "…" }`. Stored as SMS evidence (kind `sms`) and analysed like ' +
          'e-mail. 202 only after the commit.',
        tags: ['reports'],
        response: { 202: reportsResponse },
      },
    },
    async (req, reply) => {
      authorize(req.principal, 'report:submit');
      const parsed = smsReportBody.safeParse(req.body);
      if (!parsed.success)
        throw new AppError(
          'BAD_REQUEST',
          parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
        );
      const b = parsed.data;
      const region = app.ctx.config.region;
      const receivedAt = b.receivedAt === undefined ? null : toIsoOrNull(b.receivedAt);
      if (b.receivedAt !== undefined && receivedAt === null)
        throw new AppError('BAD_REQUEST', 'receivedAt: not a date (use ISO 8601).');
      const reporterNumber = b.reporterNumber === undefined ? null : toE164(b.reporterNumber, region);
      if (b.reporterNumber !== undefined && reporterNumber === null)
        throw new AppError('BAD_REQUEST', 'reporterNumber: not a phone number.');
      const input = smsReportInput({
        sender: normaliseSender(b.sender, region),
        text: b.text,
        receivedAt,
        reporterNumber,
        note: b.note ?? null,
        reporterUserId: req.principal.kind === 'anonymous' ? null : req.principal.userId,
        reporterTokenId: req.principal.kind === 'token' ? req.principal.tokenId : null,
        clientIp: req.ip,
        context: { source: 'api', senderAsReported: b.sender },
      });
      const stored = await app.ctx.writer.submit([input]);
      return reply.status(202).send({ status: 'reported', reports: present(app, stored) });
    },
  );

  app.post(
    '/api/v1/sms-gateway',
    {
      schema: {
        summary: 'SMS-gateway webhook (7726/33700-style forwarding service)',
        description:
          'Fields (JSON or form-encoded): `from` (subscriber, required; also `From`, `msisdn`, `sender_number`), ' +
          '`text` (also `Body`, `message`), `to` (short number), `receivedAt` (also `timestamp`, ' +
          '`message-timestamp`), `sender` (original sender when known), `messageId` (also `MessageSid`, `messageId`, ' +
          '`id`; retries with the same id are idempotent). Answers `{status, reply, reports}`: `reply` is the SMS ' +
          'the gateway should send back to the subscriber. Authenticate with an API token.',
        tags: ['reports'],
        response: { 200: reportsResponse },
      },
    },
    async (req) => {
      const principal = await gatewayPrincipal(app, req);
      authorize(principal, 'report:submit');
      if (principal.kind === 'anonymous')
        throw new AppError('UNAUTHENTICATED', 'The SMS gateway must present an API token.');
      const msg = readGatewayBody(req.body);
      const outcome = await handleGatewayMessage(app.ctx, msg, principal.kind === 'token' ? principal.tokenId : null);
      return { status: outcome.status, reply: outcome.reply, reports: present(app, outcome.reports) };
    },
  );
}

function present(
  app: FastifyInstance,
  stored: { id: string; sha256: string; duplicate: boolean; trackingToken: string }[],
) {
  const base = app.publicUrl();
  return stored.map((r) => ({
    id: r.id,
    sha256: r.sha256,
    duplicate: r.duplicate,
    trackingUrl: `${base}/track/${r.trackingToken}`,
  }));
}

/** The Bearer principal, or a token in `X-Spamdesk-Token` / `?token=`. */
async function gatewayPrincipal(app: FastifyInstance, req: FastifyRequest): Promise<Principal> {
  if (req.principal.kind !== 'anonymous') return req.principal;
  const header = req.headers['x-spamdesk-token'];
  const query = req.query && typeof req.query === 'object' && 'token' in req.query ? req.query.token : undefined;
  const secret = typeof header === 'string' ? header : typeof query === 'string' ? query : null;
  if (secret === null) return req.principal;
  const token = await findToken(app.ctx.db, secret);
  if (!token || !isRole(token.role)) throw new AppError('INVALID_TOKEN');
  return { kind: 'token', tokenId: token.id, role: token.role, userId: token.user_id, name: token.name };
}

/** Maps the field names of common gateways onto {@link GatewayMessage}. */
function readGatewayBody(body: unknown): z.infer<typeof gatewayBody> {
  if (!body || typeof body !== 'object') throw new AppError('BAD_REQUEST', 'Send JSON or form-encoded fields.');
  const rec: Record<string, unknown> = { ...body };
  const pick = (...names: string[]): string | null => {
    for (const n of names) {
      const v = rec[n];
      if (typeof v === 'string' && v !== '') return v;
      if (typeof v === 'number') return String(v);
    }
    return null;
  };
  const parsed = gatewayBody.safeParse({
    from: pick('from', 'From', 'msisdn', 'sender_number', 'subscriber') ?? '',
    text: pick('text', 'Text', 'Body', 'body', 'message', 'content') ?? '',
    to: pick('to', 'To', 'shortcode', 'short_number'),
    receivedAt: toIsoOrNull(pick('receivedAt', 'received_at', 'timestamp', 'message-timestamp', 'date')),
    sender: pick('sender', 'originalSender', 'original_sender'),
    messageId: pick('messageId', 'MessageSid', 'message_id', 'id', 'smsId'),
  });
  if (!parsed.success)
    throw new AppError(
      'BAD_REQUEST',
      parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  if (parsed.data.text.trim() === '') throw new AppError('BAD_REQUEST', 'text: the SMS is empty.');
  return parsed.data;
}
