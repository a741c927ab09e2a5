/**
 * HTTP API of the actions area, under `/api/v1/actions/`: cases (analysts open, merge, annotate,
 * refer), referrals (authorities download packages and answer), authorities, the outbox (dead
 * letters visible and retryable), ISP alerts (network operators see and handle their own),
 * operators, and sender feedback-loop registration with DNS TXT proof. Each route: validate →
 * authorise (policy) → act (service) → present.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Resolver } from 'node:dns/promises';
import { AppError } from '../core/errors.ts';
import { authorize, can } from '../core/policy.ts';
import { principalLabel, type Principal } from '../core/roles.ts';
import { writeAudit } from '../evidence/audit.ts';
import { loadAccount } from '../db/accounts.ts';
import type { DnsResolver } from '../analysis/stage.ts';
import { TARGET_KINDS } from './action-policy.ts';
import { addCaseEvent, addReportsToCase, annotateCase, caseHistory, caseReports, getCase, listCases, mergeCases, openCase, setCaseState } from './cases/cases.ts';
import { AuthorityInput, createAuthority, listAuthorities } from './cases/authorities.ts';
import { answerReferral, getReferralPackage, listReferrals, referCase, REFERRAL_ANSWERS } from './referrals/referrals.ts';
import { autoRefer } from './actions-jobs.ts';
import { loadInstanceKey, publishedKeys } from './referrals/instance-key.ts';
import { redactorForCase } from './redaction.ts';
import { getOutboxEntry, listOutbox, outboxCounts, retryEntry, OUTBOX_STATES } from './outbox/outbox.ts';
import { notifyOutbox } from './outbox/delivery.ts';
import { listAlerts, markAlertHandled } from './isp/isp-digests.ts';
import { OperatorInput, listOperators, registerOperator } from './isp/operators.ts';
import { addSenderIdentity, listSenders, registerSender, verifySenderIdentity } from './fbl/sender-feedback.ts';
import { PartnerInput, listPartners, registerPartner } from './exchange/partners.ts';
import { assertKnownPartner, receivePartnerReferral } from './exchange/receive.ts';

/** Largest referral body a partner may send (base64 of a package of up to 2,000 messages). */
export const MAX_EXCHANGE_BODY_BYTES = 128 * 1024 * 1024;

let dnsResolver: DnsResolver = new Resolver({ timeout: 5000, tries: 2 });
/** Replaces the resolver used for sender TXT proofs (tests inject a static zone). */
export function useSenderDnsResolver(r: DnsResolver): void {
  dnsResolver = r;
}

function body<T>(schema: z.ZodType<T>, value: unknown): T {
  const p = schema.safeParse(value ?? {});
  if (!p.success) throw new AppError('BAD_REQUEST', p.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return p.data;
}

function userIdOf(p: Principal): string | null {
  return p.kind === 'anonymous' ? null : p.userId;
}

/**
 * Authorities the caller acts for, or null for staff (all): those linked to the account here
 * (`action_authorities.user_id`) and the one the web app's account names (`users.authority_id`).
 */
async function authorityScope(app: FastifyInstance, p: Principal): Promise<string[] | null> {
  if (can(p, 'case:manage')) return null;
  const uid = userIdOf(p);
  if (!uid) return [];
  const linked = (await app.ctx.db.selectFrom('action_authorities').select('id').where('user_id', '=', uid).execute()).map((r) => r.id);
  const account = await loadAccount(app.ctx.db, uid);
  return [...new Set([...linked, ...(account?.authorityId ? [account.authorityId] : [])])];
}

/**
 * Operators the caller speaks for, or null for staff (all): those linked to the account here
 * (`action_operators.user_id`) and those owning the ASNs the web app's account lists.
 */
async function operatorScope(app: FastifyInstance, p: Principal): Promise<string[] | null> {
  if (can(p, 'operator:manage') || can(p, 'case:manage')) return null;
  const uid = userIdOf(p);
  if (!uid) return [];
  const { db } = app.ctx;
  const linked = (await db.selectFrom('action_operators').select('id').where('user_id', '=', uid).execute()).map((r) => r.id);
  const asns = (await loadAccount(db, uid))?.networks ?? [];
  const byAsn = asns.length > 0 ? (await db.selectFrom('action_operator_asns').select('operator_id').where('asn', 'in', asns).execute()).map((r) => r.operator_id) : [];
  return [...new Set([...linked, ...byAsn])];
}

const Id = z.object({ id: z.string().min(1).max(40) });
const ListQuery = z.object({ state: z.string().max(20).optional(), limit: z.coerce.number().int().min(1).max(1000).optional(), before: z.string().max(40).optional() });

export async function actionRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;
  const tags = ['actions'];

  app.get(
    '/api/v1/actions/public-key',
    {
      schema: {
        summary: 'The Ed25519 key that signs evidence packages and webhook bodies now, and every retired key with its validity period',
        description: 'The same answer from every process of the instance. A package verifies with the key its manifest names (`instance.keyFingerprint`) when it was created within that key’s validity; a rotated key’s successor carries the retired key’s signature over its rotation statement (`endorsement`).',
        tags,
      },
    },
    async () => {
      let keys = await publishedKeys(db);
      if (!keys.some((k) => k.state === 'current')) {
        await loadInstanceKey(db, app.ctx.config);
        keys = await publishedKeys(db);
      }
      const current = keys.find((k) => k.state === 'current') ?? keys[0];
      return { algorithm: 'Ed25519', fingerprint: current.fingerprint, publicKeyPem: current.publicKeyPem, validFrom: current.validFrom, keys };
    },
  );

  // ── cases ──────────────────────────────────────────────────────────────────────────────────
  app.get('/api/v1/actions/cases', { schema: { summary: 'Cases (authorities: those referred to them)', tags } }, async (req) => {
    authorize(req.principal, 'case:read');
    const q = body(ListQuery, req.query);
    const scope = await authorityScope(app, req.principal);
    const cases = await listCases(db, q);
    if (!scope) return { cases };
    const referred = new Set((await listReferrals(db, { authorityIds: scope })).map((r) => r.case_id));
    // An authority reads titles and targets typed by staff or taken from messages: redacted.
    const mine = cases.filter((c) => referred.has(c.id));
    return { cases: await Promise.all(mine.map(async (c) => (await redactorForCase(db, c.id)).json(c))) };
  });

  app.post('/api/v1/actions/cases', { schema: { summary: 'Open a case by hand', tags } }, async (req, reply) => {
    authorize(req.principal, 'case:manage');
    const b = body(z.object({ targetKind: z.enum(TARGET_KINDS), targetValue: z.string().min(1).max(300), title: z.string().min(1).max(500), category: z.string().max(64).nullable().default(null), reportIds: z.array(z.string().max(40)).max(10_000).default([]) }), req.body);
    const actor = principalLabel(req.principal);
    const c = await db.transaction().execute(async (trx) => {
      const created = await openCase(trx, { targetKind: b.targetKind, targetValue: b.targetValue, title: b.title, category: b.category, openedBy: actor });
      await addReportsToCase(trx, created.id, await reportRefs(trx, b.reportIds), actor);
      return created;
    });
    return reply.status(201).send({ case: c });
  });

  async function reportRefs(trx: typeof db, ids: string[]) {
    if (ids.length === 0) return [];
    const rows = await trx.selectFrom('reports').select(['id', 'message_sha256']).where('id', 'in', ids).execute();
    if (rows.length !== new Set(ids).size) throw new AppError('BAD_REQUEST', 'Some report ids do not exist.');
    return rows.map((r) => ({ reportId: r.id, sha256: r.message_sha256 }));
  }

  app.get('/api/v1/actions/cases/:id', { schema: { summary: 'A case with its reports, history and referrals', tags } }, async (req) => {
    authorize(req.principal, 'case:read');
    const { id } = body(Id, req.params);
    const scope = await authorityScope(app, req.principal);
    const referrals = await listReferrals(db, { caseId: id, ...(scope ? { authorityIds: scope } : {}) });
    if (scope && referrals.length === 0) throw new AppError('NOT_FOUND', `No case ${id}.`);
    const c = await getCase(db, id);
    const reports = await caseReports(db, id);
    // Authorities and everyone outside the staff never see reporter identities.
    const staff = scope === null;
    const view = {
      case: c,
      reports: reports.map((r) => ({ reportId: r.report_id, sha256: r.message_sha256, receivedAt: r.received_at, channel: r.channel, ...(staff ? { reporterAddress: r.reporter_address } : {}) })),
      history: await caseHistory(db, id),
      referrals,
    };
    await writeAudit(db, { actor: principalLabel(req.principal), action: 'case.view', subject: `case:${id}`, ip: req.ip, detail: { reports: reports.length } });
    // Titles, annotations and answers are free text: redacted of the case's reporters for outsiders.
    return staff ? view : (await redactorForCase(db, id)).json(view);
  });

  app.post('/api/v1/actions/cases/:id/annotations', { schema: { summary: 'Annotate a case', tags } }, async (req, reply) => {
    authorize(req.principal, 'case:manage');
    const { id } = body(Id, req.params);
    const b = body(z.object({ note: z.string().min(1).max(10_000) }), req.body);
    await annotateCase(db, id, principalLabel(req.principal), b.note);
    return reply.status(201).send({ ok: true });
  });

  app.post('/api/v1/actions/cases/:id/reports', { schema: { summary: 'Add reports to a case', tags } }, async (req) => {
    authorize(req.principal, 'case:manage');
    const { id } = body(Id, req.params);
    const b = body(z.object({ reportIds: z.array(z.string().max(40)).min(1).max(10_000) }), req.body);
    await getCase(db, id);
    const added = await db.transaction().execute(async (trx) => addReportsToCase(trx, id, await reportRefs(trx, b.reportIds), principalLabel(req.principal)));
    return { added };
  });

  app.post('/api/v1/actions/cases/:id/merge', { schema: { summary: 'Merge other cases into this one', tags } }, async (req) => {
    authorize(req.principal, 'case:manage');
    const { id } = body(Id, req.params);
    const b = body(z.object({ caseIds: z.array(z.string().max(40)).min(1).max(100) }), req.body);
    const moved = await db.transaction().execute((trx) => mergeCases(trx, id, b.caseIds, principalLabel(req.principal)));
    return { moved };
  });

  app.post('/api/v1/actions/cases/:id/state', { schema: { summary: 'Close or reopen a case', tags } }, async (req) => {
    authorize(req.principal, 'case:manage');
    const { id } = body(Id, req.params);
    const b = body(z.object({ state: z.enum(['open', 'closed']), note: z.string().max(10_000).optional() }), req.body);
    await setCaseState(db, id, b.state, principalLabel(req.principal), b.note ? { note: b.note } : null);
    return { case: await getCase(db, id) };
  });

  app.post('/api/v1/actions/cases/:id/referrals', { schema: { summary: 'Refer a case: to one authority, or by routing when none is named', tags } }, async (req, reply) => {
    authorize(req.principal, 'case:manage');
    const { id } = body(Id, req.params);
    const b = body(z.object({ authorityId: z.string().max(40).optional() }), req.body);
    if (b.authorityId) {
      const r = await referCase(app.ctx, id, b.authorityId, principalLabel(req.principal));
      return reply.status(201).send({ referrals: [r] });
    }
    const ids = await autoRefer(app.ctx, id);
    if (ids.length === 0) await addCaseEvent(db, id, principalLabel(req.principal), 'refer-requested', { result: 'no authority matched or all already referred' });
    return reply.status(201).send({ referrals: ids.map((referralId) => ({ referralId })) });
  });

  // ── referrals (authorities) ────────────────────────────────────────────────────────────────
  app.get('/api/v1/actions/referrals', { schema: { summary: 'Referrals (authorities: their own)', tags } }, async (req) => {
    authorize(req.principal, 'referral:answer');
    const scope = await authorityScope(app, req.principal);
    return { referrals: await listReferrals(db, scope ? { authorityIds: scope } : {}) };
  });

  app.get('/api/v1/actions/referrals/:id/package', { schema: { summary: 'Download a referral’s evidence package (audited)', tags, produces: ['application/zip'] } }, async (req, reply) => {
    authorize(req.principal, 'referral:answer');
    const { id } = body(Id, req.params);
    const scope = await authorityScope(app, req.principal);
    const r = await getReferralPackage(db, id);
    if (scope && !scope.includes(r.authority_id)) throw new AppError('NOT_FOUND', `No referral ${id}.`);
    await writeAudit(db, { actor: principalLabel(req.principal), action: 'referral.download', subject: `referral:${id}`, ip: req.ip, detail: { sha256: r.package_sha256 } });
    return reply
      .type('application/zip')
      .header('content-disposition', `attachment; filename="case-${r.case_id}-${r.id}.zip"`)
      .header('digest', `sha-256=${Buffer.from(r.package_sha256, 'hex').toString('base64')}`)
      .send(r.package);
  });

  app.post('/api/v1/actions/referrals/:id/answer', { schema: { summary: 'Acknowledge, ask for more, or close a referral', tags } }, async (req) => {
    authorize(req.principal, 'referral:answer');
    const { id } = body(Id, req.params);
    const b = body(z.object({ answer: z.enum(REFERRAL_ANSWERS), note: z.string().max(10_000).nullable().default(null) }), req.body);
    const scope = await authorityScope(app, req.principal);
    const r = await getReferralPackage(db, id);
    if (scope && !scope.includes(r.authority_id)) throw new AppError('NOT_FOUND', `No referral ${id}.`);
    await answerReferral(db, id, b.answer, principalLabel(req.principal), b.note);
    return { ok: true };
  });

  // ── authorities ────────────────────────────────────────────────────────────────────────────
  app.get('/api/v1/actions/authorities', { schema: { summary: 'Authorities and their competences', tags } }, async (req) => {
    authorize(req.principal, 'case:manage');
    return { authorities: await listAuthorities(db) };
  });
  app.post('/api/v1/actions/authorities', { schema: { summary: 'Register an authority', tags } }, async (req, reply) => {
    authorize(req.principal, 'authority:manage');
    return reply.status(201).send({ authority: await createAuthority(db, body(AuthorityInput, req.body)) });
  });

  // ── outbox ─────────────────────────────────────────────────────────────────────────────────
  app.get('/api/v1/actions/outbox', { schema: { summary: 'Outbox entries (state: queued, sending, sent, dead) and counts', tags } }, async (req) => {
    authorize(req.principal, 'outbox:read');
    const q = body(ListQuery, req.query);
    if (q.state && !(OUTBOX_STATES as readonly string[]).includes(q.state)) throw new AppError('BAD_REQUEST', `state must be one of ${OUTBOX_STATES.join(', ')}.`);
    return { counts: await outboxCounts(db), entries: await listOutbox(db, q) };
  });
  app.get('/api/v1/actions/outbox/:id', { schema: { summary: 'One outbox entry (metadata; the body is not shown)', tags } }, async (req) => {
    authorize(req.principal, 'outbox:read');
    const e = await getOutboxEntry(db, body(Id, req.params).id);
    if (!e) throw new AppError('NOT_FOUND', 'No such outbox entry.');
    const { body: bytes, ...rest } = e;
    return { entry: { ...rest, size: bytes.length } };
  });
  app.post('/api/v1/actions/outbox/:id/retry', { schema: { summary: 'Queue a dead entry again', tags } }, async (req) => {
    authorize(req.principal, 'outbox:retry');
    const { id } = body(Id, req.params);
    if (!(await retryEntry(db, id))) throw new AppError('CONFLICT', 'Only queued or dead entries can be retried.');
    await writeAudit(db, { actor: principalLabel(req.principal), action: 'outbox.retry', subject: `outbox:${id}`, ip: req.ip });
    notifyOutbox();
    return { ok: true };
  });

  // ── ISP alerts and operators ───────────────────────────────────────────────────────────────
  app.get('/api/v1/actions/isp/alerts', { schema: { summary: 'ISP alerts (network operators: their own networks)', tags } }, async (req) => {
    authorize(req.principal, 'isp-alert:read');
    const q = body(ListQuery, req.query);
    const scope = await operatorScope(app, req.principal);
    return { alerts: await listAlerts(db, { ...(scope ? { operatorIds: scope } : {}), state: q.state, limit: q.limit }) };
  });
  app.post('/api/v1/actions/isp/alerts/:id/handled', { schema: { summary: 'Mark an alert handled', tags } }, async (req) => {
    authorize(req.principal, 'isp-alert:handle');
    const { id } = body(Id, req.params);
    const scope = await operatorScope(app, req.principal);
    if (!(await markAlertHandled(db, id, principalLabel(req.principal), scope))) throw new AppError('NOT_FOUND', 'No open alert with this id in your networks.');
    return { ok: true };
  });
  app.get('/api/v1/actions/isp/operators', { schema: { summary: 'Network operators and their ASNs', tags } }, async (req) => {
    authorize(req.principal, 'operator:manage');
    return { operators: await listOperators(db) };
  });
  app.post('/api/v1/actions/isp/operators', { schema: { summary: 'Register a network operator', tags } }, async (req, reply) => {
    authorize(req.principal, 'operator:manage');
    return reply.status(201).send({ operator: await registerOperator(db, body(OperatorInput, req.body)) });
  });

  // ── partner exchange ───────────────────────────────────────────────────────────────────────
  const partnerView = (p: { id: string; name: string; country: string; key_fingerprint: string; created_at: string; disabled_at: string | null }) => ({
    id: p.id,
    name: p.name,
    country: p.country,
    keyFingerprint: p.key_fingerprint,
    createdAt: p.created_at,
    enabled: p.disabled_at === null,
  });
  app.get('/api/v1/actions/partners', { schema: { summary: 'Partner platforms whose signed referrals this instance accepts', tags } }, async (req) => {
    authorize(req.principal, 'case:manage');
    return { partners: (await listPartners(db)).map(partnerView) };
  });
  app.post('/api/v1/actions/partners', { schema: { summary: 'Register a partner platform by its Ed25519 public key', tags } }, async (req, reply) => {
    authorize(req.principal, 'authority:manage');
    const b = body(PartnerInput, req.body);
    return reply.status(201).send({ partner: partnerView(await registerPartner(db, b)) });
  });
  // A partner's referral: authenticated by its signature, not by a token. The body is kept as
  // bytes (the signature covers them exactly), and an unknown key is refused before it is read.
  await app.register(async (sub) => {
    sub.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: MAX_EXCHANGE_BODY_BYTES }, (_req, raw, done) => done(null, raw));
    sub.post(
      '/api/v1/exchange/referrals',
      {
        bodyLimit: MAX_EXCHANGE_BODY_BYTES,
        schema: { summary: 'Receive a referral (signed evidence package) from a registered partner platform', tags: ['exchange'] },
        onRequest: async (req) => {
          const fp = req.headers['x-spamdesk-key-fingerprint'];
          await assertKnownPartner(app.ctx, Array.isArray(fp) ? fp[0] : fp);
        },
      },
      async (req, reply) => {
        if (!Buffer.isBuffer(req.body)) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the referral as application/json.');
        const h = (n: string) => {
          const v = req.headers[n];
          return Array.isArray(v) ? v[0] : v;
        };
        const r = await receivePartnerReferral(app.ctx, req.body, { signature: h('x-spamdesk-signature'), fingerprint: h('x-spamdesk-key-fingerprint') });
        await writeAudit(db, { actor: `partner:${r.partner.name}`, action: 'exchange.receive', subject: `case:${r.caseId}`, ip: req.ip, detail: { packageId: r.packageId, messages: r.messages, duplicate: r.duplicate } });
        return reply.status(r.duplicate ? 200 : 202).send(r);
      },
    );
  });

  // ── sender feedback loop ───────────────────────────────────────────────────────────────────
  const ownSender = async (req: FastifyRequest, senderId: string) => {
    if (can(req.principal, 'operator:manage')) return;
    const s = await db.selectFrom('action_senders').select('user_id').where('id', '=', senderId).executeTakeFirst();
    if (!s || s.user_id === null || s.user_id !== userIdOf(req.principal)) throw new AppError('NOT_FOUND', `No sender ${senderId}.`);
  };
  app.get('/api/v1/actions/senders', { schema: { summary: 'Registered senders (a sender account: its own)', tags } }, async (req) => {
    authorize(req.principal, 'sender:register');
    const uid = userIdOf(req.principal);
    if (can(req.principal, 'operator:manage')) return { senders: await listSenders(db) };
    return { senders: uid ? await listSenders(db, { userId: uid }) : [] };
  });
  app.post('/api/v1/actions/senders', { schema: { summary: 'Register as a sender for feedback-loop reports', tags } }, async (req, reply) => {
    authorize(req.principal, 'sender:register');
    const b = body(z.object({ name: z.string().min(1).max(200), feedbackAddress: z.email() }), req.body);
    const userId = can(req.principal, 'operator:manage') ? null : userIdOf(req.principal);
    if (!can(req.principal, 'operator:manage') && !userId) throw new AppError('FORBIDDEN', 'A sender registration must belong to a user account.');
    return reply.status(201).send({ sender: await registerSender(db, { ...b, userId }) });
  });
  app.post('/api/v1/actions/senders/:id/identities', { schema: { summary: 'Claim a domain or IP; publish the returned TXT record, then verify', tags } }, async (req, reply) => {
    authorize(req.principal, 'sender:register');
    const { id } = body(Id, req.params);
    await ownSender(req, id);
    const b = body(z.object({ kind: z.enum(['domain', 'ip']), value: z.string().min(1).max(300) }), req.body);
    const r = await addSenderIdentity(db, id, b.kind, b.value);
    return reply.status(201).send({ identity: { id: r.id, kind: r.kind, value: r.value, txtName: r.txtName, txtValue: r.txtValue } });
  });
  app.post('/api/v1/actions/senders/identities/:id/verify', { schema: { summary: 'Look the TXT proof up in DNS', tags } }, async (req) => {
    authorize(req.principal, 'sender:register');
    const { id } = body(Id, req.params);
    const ident = await db.selectFrom('action_sender_identities').select('sender_id').where('id', '=', id).executeTakeFirst();
    if (!ident) throw new AppError('NOT_FOUND', `No identity ${id}.`);
    await ownSender(req, ident.sender_id);
    return verifySenderIdentity(db, dnsResolver, id);
  });
}
