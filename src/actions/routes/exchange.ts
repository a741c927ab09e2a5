/**
 * Partner platforms: their registry (`/api/v1/actions/partners`) and the endpoint where they
 * deliver signed referrals (`POST /api/v1/exchange/referrals`, authenticated by the signature).
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { z } from 'zod';
import { principalLabel } from '../../core/roles.ts';
import { PartnerInput, listPartners, registerPartner, setPartnerUrl } from '../exchange/partners.ts';
import { assertKnownPartner, receivePartnerReferral } from '../exchange/receive.ts';
import {
  CLOSE_OUTCOMES,
  REQUEST_KINDS,
  receivePartnerStatus,
  referralStatusHistory,
  sendPartnerStatus,
} from '../exchange/status.ts';
import {
  REQUEST_STATES,
  approveExchangeRequest,
  declineExchangeRequest,
  listExchangeRequests,
} from '../exchange/requests.ts';
import { notifyOutbox } from '../outbox/delivery.ts';
import { ACTIONS_TAGS, Id, body } from './route-helpers.ts';

/** What an analyst sends a partner about a case it referred here (the `received` status goes by itself). */
const StatusSend = z
  .object({
    status: z.enum(['acknowledged', 'more-requested', 'closed']),
    note: z.string().max(10_000).nullable().default(null),
    request: z.object({ kind: z.enum(REQUEST_KINDS), question: z.string().trim().min(1).max(10_000) }).optional(),
    outcome: z.enum(CLOSE_OUTCOMES).optional(),
    referralId: z.string().max(64).optional(),
    competence: z.string().max(200).nullable().default(null),
    legalBasis: z.string().max(2000).nullable().default(null),
  })
  .superRefine((v, ctx) => {
    if (v.status === 'more-requested' && !v.request)
      ctx.addIssue({ code: 'custom', path: ['request'], message: 'more-requested needs {kind, question}' });
    if (v.status !== 'more-requested' && v.request)
      ctx.addIssue({ code: 'custom', path: ['request'], message: 'only with more-requested' });
    if (v.status === 'closed' && !v.outcome)
      ctx.addIssue({ code: 'custom', path: ['outcome'], message: `closed needs one of ${CLOSE_OUTCOMES.join(', ')}` });
    if (v.status !== 'closed' && v.outcome)
      ctx.addIssue({ code: 'custom', path: ['outcome'], message: 'only with closed' });
  });

/** Largest referral body a partner may send (base64 of a package of up to 2,000 messages). */
export const MAX_EXCHANGE_BODY_BYTES = 128 * 1024 * 1024;

export async function exchangeRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;
  const tags = ACTIONS_TAGS;

  const partnerView = (p: {
    id: string;
    name: string;
    country: string;
    key_fingerprint: string;
    created_at: string;
    disabled_at: string | null;
    url: string | null;
  }) => ({
    id: p.id,
    url: p.url,
    name: p.name,
    country: p.country,
    keyFingerprint: p.key_fingerprint,
    createdAt: p.created_at,
    enabled: p.disabled_at === null,
  });
  app.get(
    '/api/v1/actions/partners',
    { schema: { summary: 'Partner platforms whose signed referrals this instance accepts', tags } },
    async (req) => {
      authorize(req.principal, 'case:manage');
      return { partners: (await listPartners(db)).map(partnerView) };
    },
  );
  app.post(
    '/api/v1/actions/partners',
    { schema: { summary: 'Register a partner platform by its Ed25519 public key', tags } },
    async (req, reply) => {
      authorize(req.principal, 'authority:manage');
      const b = body(PartnerInput, req.body);
      return reply.status(201).send({ partner: partnerView(await registerPartner(db, b)) });
    },
  );
  app.post(
    '/api/v1/actions/partners/:id/url',
    { schema: { summary: 'Set (or clear) the base URL where this instance answers a partner', tags } },
    async (req) => {
      authorize(req.principal, 'authority:manage');
      const { id } = body(Id, req.params);
      const b = body(z.object({ url: z.string().trim().min(1).max(2000).nullable() }), req.body);
      await setPartnerUrl(db, id, b.url);
      await writeAudit(db, {
        actor: principalLabel(req.principal),
        action: 'partner.url',
        subject: `partner:${id}`,
        ip: req.ip,
        detail: { url: b.url },
      });
      return { ok: true };
    },
  );
  app.post(
    '/api/v1/actions/cases/:id/partner-status',
    { schema: { summary: 'Answer the partner that referred a case: acknowledge, ask for more, close (signed)', tags } },
    async (req, reply) => {
      authorize(req.principal, 'case:manage');
      const { id } = body(Id, req.params);
      const b = body(StatusSend, req.body);
      const actor = principalLabel(req.principal);
      const sent = await db.transaction().execute(async (trx) => {
        const r = await sendPartnerStatus(trx, app.ctx.config, id, b, actor);
        await writeAudit(trx, {
          actor,
          action: 'exchange.status.send',
          subject: `case:${id}`,
          ip: req.ip,
          detail: { ...r, status: b.status, outcome: b.outcome ?? null, request: b.request ?? null },
        });
        return r;
      });
      notifyOutbox();
      return reply.status(202).send(sent);
    },
  );
  app.get(
    '/api/v1/actions/referrals/:id/statuses',
    { schema: { summary: 'Status messages of a referral (received from or sent to the partner), oldest first', tags } },
    async (req) => {
      authorize(req.principal, 'case:manage');
      const { id } = body(Id, req.params);
      return { statuses: await referralStatusHistory(db, id) };
    },
  );
  app.get(
    '/api/v1/actions/exchange/requests',
    { schema: { summary: 'Partners’ requests for more (originals, further reports), newest first, paged', tags } },
    async (req) => {
      authorize(req.principal, 'case:manage');
      const q = body(
        z.object({
          state: z.enum(REQUEST_STATES).optional(),
          caseId: z.string().max(64).optional(),
          before: z.string().max(100).optional(),
          limit: z.coerce.number().int().min(1).max(200).optional(),
        }),
        req.query,
      );
      return listExchangeRequests(db, q);
    },
  );
  app.post(
    '/api/v1/actions/exchange/requests/:id/approve',
    { schema: { summary: 'Approve a partner’s request: a follow-up package answers it (audited)', tags } },
    async (req, reply) => {
      authorize(req.principal, 'case:manage');
      const { id } = body(Id, req.params);
      const b = body(
        z.object({
          legalBasis: z.string().trim().max(2000).nullable().default(null),
          note: z.string().max(10_000).nullable().default(null),
        }),
        req.body,
      );
      const r = await approveExchangeRequest(app.ctx, id, principalLabel(req.principal), { ...b, ip: req.ip });
      return reply.status(202).send(r);
    },
  );
  app.post(
    '/api/v1/actions/exchange/requests/:id/decline',
    { schema: { summary: 'Decline a partner’s request for more (audited)', tags } },
    async (req) => {
      authorize(req.principal, 'case:manage');
      const { id } = body(Id, req.params);
      const b = body(z.object({ note: z.string().max(10_000).nullable().default(null) }), req.body);
      await declineExchangeRequest(db, id, principalLabel(req.principal), { ...b, ip: req.ip });
      return { ok: true };
    },
  );
  // A partner's referral: authenticated by its signature, not by a token. The body is kept as
  // bytes (the signature covers them exactly), and an unknown key is refused before it is read.
  await app.register(async (sub) => {
    sub.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer', bodyLimit: MAX_EXCHANGE_BODY_BYTES },
      (_req, raw, done) => done(null, raw),
    );
    sub.post(
      '/api/v1/exchange/referrals',
      {
        bodyLimit: MAX_EXCHANGE_BODY_BYTES,
        schema: {
          summary: 'Receive a referral (signed evidence package) from a registered partner platform',
          tags: ['exchange'],
        },
        onRequest: async (req) => {
          const fp = req.headers['x-spamdesk-key-fingerprint'];
          await assertKnownPartner(app.ctx, Array.isArray(fp) ? fp[0] : fp);
        },
      },
      async (req, reply) => {
        if (!Buffer.isBuffer(req.body))
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the referral as application/json.');
        const h = (n: string) => {
          const v = req.headers[n];
          return Array.isArray(v) ? v[0] : v;
        };
        const r = await receivePartnerReferral(app.ctx, req.body, {
          signature: h('x-spamdesk-signature'),
          fingerprint: h('x-spamdesk-key-fingerprint'),
        });
        await writeAudit(db, {
          actor: `partner:${r.partner.name}`,
          action: 'exchange.receive',
          subject: `case:${r.caseId}`,
          ip: req.ip,
          detail: { packageId: r.packageId, messages: r.messages, duplicate: r.duplicate },
        });
        return reply.status(r.duplicate ? 200 : 202).send(r);
      },
    );
    sub.post(
      '/api/v1/exchange/status',
      {
        bodyLimit: 256 * 1024,
        schema: {
          summary: 'Receive a signed status message (received, acknowledged, more requested, closed) from a partner',
          tags: ['exchange'],
        },
        onRequest: async (req) => {
          const fp = req.headers['x-spamdesk-key-fingerprint'];
          await assertKnownPartner(app.ctx, Array.isArray(fp) ? fp[0] : fp);
        },
      },
      async (req, reply) => {
        if (!Buffer.isBuffer(req.body))
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the status message as application/json.');
        const h = (n: string) => {
          const v = req.headers[n];
          return Array.isArray(v) ? v[0] : v;
        };
        const r = await receivePartnerStatus(db, req.body, {
          signature: h('x-spamdesk-signature'),
          fingerprint: h('x-spamdesk-key-fingerprint'),
        });
        if (!r.duplicate)
          await writeAudit(db, {
            actor: `partner:${r.partner.name}`,
            action: 'exchange.status.receive',
            subject: `referral:${r.referralId}`,
            ip: req.ip,
            detail: { messageId: r.messageId, status: r.status, caseId: r.caseId, requestId: r.requestId },
          });
        return reply.status(r.duplicate ? 200 : 202).send(r);
      },
    );
  });
}
