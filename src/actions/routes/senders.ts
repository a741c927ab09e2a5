/**
 * `/api/v1/actions/senders`: senders register for feedback-loop reports and prove their domains
 * and addresses with a DNS TXT record.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Resolver } from 'node:dns/promises';
import { AppError } from '../../core/errors.ts';
import { authorize, can } from '../../core/policy.ts';
import type { DnsResolver } from '../../analysis/stage.ts';
import { addSenderIdentity, listSenders, registerSender, verifySenderIdentity } from '../fbl/sender-feedback.ts';
import { ACTIONS_TAGS, Id, body, userIdOf } from './route-helpers.ts';

let dnsResolver: DnsResolver = new Resolver({ timeout: 5000, tries: 2 });
/** Replaces the resolver used for sender TXT proofs (tests inject a static zone). */
export function useSenderDnsResolver(r: DnsResolver): void {
  dnsResolver = r;
}

export async function senderRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;
  const tags = ACTIONS_TAGS;

  const ownSender = async (req: FastifyRequest, senderId: string) => {
    if (can(req.principal, 'operator:manage')) return;
    const s = await db.selectFrom('action_senders').select('user_id').where('id', '=', senderId).executeTakeFirst();
    if (!s || s.user_id === null || s.user_id !== userIdOf(req.principal))
      throw new AppError('NOT_FOUND', `No sender ${senderId}.`);
  };
  app.get(
    '/api/v1/actions/senders',
    { schema: { summary: 'Registered senders (a sender account: its own)', tags } },
    async (req) => {
      authorize(req.principal, 'sender:register');
      const uid = userIdOf(req.principal);
      if (can(req.principal, 'operator:manage')) return { senders: await listSenders(db) };
      return { senders: uid ? await listSenders(db, { userId: uid }) : [] };
    },
  );
  app.post(
    '/api/v1/actions/senders',
    { schema: { summary: 'Register as a sender for feedback-loop reports', tags } },
    async (req, reply) => {
      authorize(req.principal, 'sender:register');
      const b = body(z.object({ name: z.string().min(1).max(200), feedbackAddress: z.email() }), req.body);
      const userId = can(req.principal, 'operator:manage') ? null : userIdOf(req.principal);
      if (!can(req.principal, 'operator:manage') && !userId)
        throw new AppError('FORBIDDEN', 'A sender registration must belong to a user account.');
      return reply.status(201).send({ sender: await registerSender(db, { ...b, userId }) });
    },
  );
  app.post(
    '/api/v1/actions/senders/:id/identities',
    { schema: { summary: 'Claim a domain or IP; publish the returned TXT record, then verify', tags } },
    async (req, reply) => {
      authorize(req.principal, 'sender:register');
      const { id } = body(Id, req.params);
      await ownSender(req, id);
      const b = body(z.object({ kind: z.enum(['domain', 'ip']), value: z.string().min(1).max(300) }), req.body);
      const r = await addSenderIdentity(db, id, b.kind, b.value);
      return reply
        .status(201)
        .send({ identity: { id: r.id, kind: r.kind, value: r.value, txtName: r.txtName, txtValue: r.txtValue } });
    },
  );
  app.post(
    '/api/v1/actions/senders/identities/:id/verify',
    { schema: { summary: 'Look the TXT proof up in DNS', tags } },
    async (req) => {
      authorize(req.principal, 'sender:register');
      const { id } = body(Id, req.params);
      const ident = await db
        .selectFrom('action_sender_identities')
        .select('sender_id')
        .where('id', '=', id)
        .executeTakeFirst();
      if (!ident) throw new AppError('NOT_FOUND', `No identity ${id}.`);
      await ownSender(req, ident.sender_id);
      return verifySenderIdentity(db, dnsResolver, id);
    },
  );
}
