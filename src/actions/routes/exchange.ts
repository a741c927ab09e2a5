/**
 * Partner platforms: their registry (`/api/v1/actions/partners`) and the endpoint where they
 * deliver signed referrals (`POST /api/v1/exchange/referrals`, authenticated by the signature).
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { PartnerInput, listPartners, registerPartner } from '../exchange/partners.ts';
import { assertKnownPartner, receivePartnerReferral } from '../exchange/receive.ts';
import { ACTIONS_TAGS, body } from './route-helpers.ts';

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
  }) => ({
    id: p.id,
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
  });
}
