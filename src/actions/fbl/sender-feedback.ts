/**
 * The sender feedback loop (seed 004 §3, self-regulation): a legitimate sender registers its
 * domains and sending IPs, proves each by publishing a token in DNS TXT, and then receives an ARF
 * report (RFC 5965, `Feedback-Type: abuse`) for every complaint about its mail, redacted, so it
 * can clean its lists.
 *
 * Proof: TXT `spamdesk-verification=<token>` at `_spamdesk.<domain>` for a domain, and at
 * `_spamdesk.<reverse name>` (in-addr.arpa / ip6.arpa, the zone the IP's holder controls) for an
 * IP. Lookups go through the injected resolver port (`DnsResolver`), so tests use a static zone.
 * A domain complaint is fed back only when the mail authenticated (SPF/DKIM/DMARC passed): mail
 * that merely forges a registered domain is not the sender's, and its reporters' complaints must
 * not reach whoever registered it.
 */
import type { Kysely } from 'kysely';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { getDomain } from 'tldts';
import type { Database } from '../../db/schema.ts';
import type { Config } from '../../core/config.ts';
import type { DnsResolver } from '../../analysis/stage.ts';
import { AppError } from '../../core/errors.ts';
import { newId, nowIso, randomSecret } from '../../core/ids.ts';
import { APP_LANGUAGES, recipientLanguage, type AppLanguage } from '../../core/languages.ts';
import { getMessageRaw } from '../../evidence/store.ts';
import {
  buildMessage,
  domainOf,
  isEmbeddable,
  newMessageId,
  rfc5322Date,
  toCrlf,
  type MimeNode,
} from '../formats/mime.ts';
import { enqueueMail } from '../outbox/outbox.ts';
import { mailText } from '../formats/mail-texts.ts';
import { identitiesOfReports, redactMessage } from '../redaction.ts';
import type { ReportFactsRow } from '../../db/actions-tables.ts';

export const TXT_PREFIX = 'spamdesk-verification=';

export const SenderInput = z.object({
  name: z.string().min(1).max(200),
  feedbackAddress: z.email(),
  userId: z.string().max(32).nullable().default(null),
  /** Language of the complaint feedback it gets (`en`, `fr`); null: the instance region's. */
  language: z.enum(APP_LANGUAGES).nullable().default(null),
});

export async function registerSender(db: Kysely<Database>, input: z.input<typeof SenderInput>) {
  const p = SenderInput.safeParse(input);
  if (!p.success)
    throw new AppError('BAD_REQUEST', p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const row = {
    id: newId(),
    name: p.data.name,
    feedback_address: p.data.feedbackAddress,
    user_id: p.data.userId,
    created_at: nowIso(),
    language: p.data.language,
  };
  await db.insertInto('action_senders').values(row).execute();
  return row;
}

/** The language of the complaint feedback a sender gets (null: the instance region's). */
export async function setSenderLanguage(db: Kysely<Database>, id: string, language: string | null): Promise<void> {
  const v = z.enum(APP_LANGUAGES).nullable().safeParse(language);
  if (!v.success) throw new AppError('BAD_REQUEST', `language: one of ${APP_LANGUAGES.join(', ')}, or null`);
  const r = await db.updateTable('action_senders').set({ language: v.data }).where('id', '=', id).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw new AppError('NOT_FOUND', `No sender ${id}.`);
}

/** The DNS name where the TXT proof for an identity is published. */
export function proofName(kind: 'domain' | 'ip', value: string): string {
  if (kind === 'domain') return `_spamdesk.${value}`;
  return `_spamdesk.${ipaddr.parse(value).toByteArray().length === 4 ? reverseV4(value) : reverseV6(value)}`;
}

function reverseV4(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

function reverseV6(ip: string): string {
  const bytes = ipaddr.parse(ip).toByteArray();
  const nibbles = bytes.flatMap((b) => [(b >> 4).toString(16), (b & 15).toString(16)]);
  return `${nibbles.reverse().join('.')}.ip6.arpa`;
}

/** Normalises and checks a claimed identity. */
export function normaliseIdentity(kind: string, value: string): { kind: 'domain' | 'ip'; value: string } {
  if (kind === 'ip') {
    if (!ipaddr.isValid(value)) throw new AppError('BAD_REQUEST', `${value} is not an IP address.`);
    return { kind, value: ipaddr.process(value).toString() };
  }
  if (kind === 'domain') {
    const d = value.trim().toLowerCase().replace(/\.$/, '');
    const reg = getDomain(d);
    if (!reg || reg !== d)
      throw new AppError(
        'BAD_REQUEST',
        `${value} is not a registrable domain (register example.com, not a sub-domain or a public suffix).`,
      );
    return { kind, value: d };
  }
  throw new AppError('BAD_REQUEST', 'kind must be domain or ip.');
}

/** Adds a domain or IP to a sender; returns the token and where to publish it. */
export async function addSenderIdentity(db: Kysely<Database>, senderId: string, kind: string, value: string) {
  const sender = await db.selectFrom('action_senders').select('id').where('id', '=', senderId).executeTakeFirst();
  if (!sender) throw new AppError('NOT_FOUND', `No sender ${senderId}.`);
  const n = normaliseIdentity(kind, value);
  const token = randomSecret(18);
  const row = {
    id: newId(),
    sender_id: senderId,
    kind: n.kind,
    value: n.value,
    token,
    verified_at: null,
    created_at: nowIso(),
  };
  await db.insertInto('action_sender_identities').values(row).execute();
  return { ...row, txtName: proofName(n.kind, n.value), txtValue: `${TXT_PREFIX}${token}` };
}

/**
 * Looks the token up in DNS. Verified identities are the only ones fed back to; another sender
 * verifying the same value does not take it over (the first verified claim stands).
 */
export async function verifySenderIdentity(
  db: Kysely<Database>,
  resolver: DnsResolver,
  identityId: string,
): Promise<{ verified: boolean; reason: string }> {
  const id = await db
    .selectFrom('action_sender_identities')
    .selectAll()
    .where('id', '=', identityId)
    .executeTakeFirst();
  if (!id) throw new AppError('NOT_FOUND', `No identity ${identityId}.`);
  if (id.verified_at) return { verified: true, reason: 'already verified' };
  const kind = id.kind === 'ip' ? 'ip' : 'domain';
  const name = proofName(kind, id.value);
  let records: string[][];
  try {
    records = await resolver.resolveTxt(name);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      verified: false,
      reason:
        code === 'ENOTFOUND' || code === 'ENODATA'
          ? `no TXT record at ${name}`
          : `DNS lookup of ${name} failed temporarily (${code ?? 'error'}); try again`,
    };
  }
  const want = `${TXT_PREFIX}${id.token}`;
  // RFC 7208 §3.3 style: a TXT record's strings are concatenated.
  if (!records.some((chunks) => chunks.join('') === want))
    return { verified: false, reason: `TXT at ${name} does not hold ${want}` };
  const taken = await db
    .selectFrom('action_sender_identities')
    .select('id')
    .where('kind', '=', id.kind)
    .where('value', '=', id.value)
    .where('verified_at', 'is not', null)
    .executeTakeFirst();
  if (taken) return { verified: false, reason: `${id.value} is already verified by another sender` };
  await db
    .updateTable('action_sender_identities')
    .set({ verified_at: nowIso() })
    .where('id', '=', identityId)
    .execute();
  return { verified: true, reason: `TXT found at ${name}` };
}

export async function listSenders(db: Kysely<Database>, filter: { userId?: string } = {}) {
  let q = db.selectFrom('action_senders').selectAll().orderBy('name');
  if (filter.userId) q = q.where('user_id', '=', filter.userId);
  const senders = await q.execute();
  const ids = senders.map((s) => s.id);
  const identities = ids.length
    ? await db.selectFrom('action_sender_identities').selectAll().where('sender_id', 'in', ids).execute()
    : [];
  return senders.map((s) => ({
    ...s,
    identities: identities
      .filter((i) => i.sender_id === s.id)
      .map((i) => ({
        id: i.id,
        kind: i.kind,
        value: i.value,
        verified_at: i.verified_at,
        txtName: proofName(i.kind === 'ip' ? 'ip' : 'domain', i.value),
        txtValue: `${TXT_PREFIX}${i.token}`,
      })),
  }));
}

/** Queues ARF feedback for one report to every verified sender it concerns. Returns how many. */
export async function queueSenderFeedback(db: Kysely<Database>, config: Config, f: ReportFactsRow): Promise<number> {
  const claims: { kind: string; value: string }[] = [];
  if (f.sender_domain && !f.unauthenticated) claims.push({ kind: 'domain', value: f.sender_domain });
  if (f.origin_ip) claims.push({ kind: 'ip', value: f.origin_ip });
  if (claims.length === 0) return 0;
  let n = 0;
  for (const c of claims) {
    const rows = await db
      .selectFrom('action_sender_identities as i')
      .innerJoin('action_senders as s', 's.id', 'i.sender_id')
      .select(['i.id as identity_id', 's.feedback_address', 's.name', 's.language'])
      .where('i.kind', '=', c.kind)
      .where('i.value', '=', c.value)
      .where('i.verified_at', 'is not', null)
      .execute();
    for (const r of rows) {
      const done = await db
        .selectFrom('action_fbl_sent')
        .select('report_id')
        .where('report_id', '=', f.report_id)
        .where('identity_id', '=', r.identity_id)
        .executeTakeFirst();
      if (done) continue;
      const raw = await getMessageRaw(db, f.message_sha256);
      if (!raw) continue;
      const redacted = redactMessage(raw, await identitiesOfReports(db, [f.report_id]));
      const { messageId, raw: arf } = senderArf(
        config.outboxFrom,
        r.feedback_address,
        f,
        redacted,
        { kind: c.kind === 'ip' ? 'ip' : 'domain', value: c.value },
        recipientLanguage(r.language, config.region),
      );
      const outboxId = await enqueueMail(db, {
        messageId,
        envelopeFrom: config.outboxFrom,
        to: r.feedback_address,
        raw: arf,
        purpose: 'fbl',
        subjectId: f.report_id,
        description: `feedback to ${r.name} (${c.kind} ${c.value})`,
        maxAttempts: config.outboxMaxAttempts,
      });
      await db
        .insertInto('action_fbl_sent')
        .values({ report_id: f.report_id, identity_id: r.identity_id, outbox_id: outboxId, created_at: nowIso() })
        .execute();
      n++;
    }
  }
  return n;
}

/** One ARF report (RFC 5965 §3.1, Feedback-Type: abuse) about one complaint. */
export function senderArf(
  from: string,
  to: string,
  f: Pick<ReportFactsRow, 'received_at' | 'origin_ip' | 'sender_domain'>,
  redacted: Buffer,
  identity: { kind: 'domain' | 'ip'; value: string },
  lang: AppLanguage,
): { messageId: string; raw: Buffer } {
  const matched = mailText(lang, identity.kind === 'ip' ? 'fbl.kind.ip' : 'fbl.kind.domain', { value: identity.value });
  const messageId = newMessageId(domainOf(from));
  const fields = [
    'Feedback-Type: abuse',
    'User-Agent: Spamdesk/0.1',
    'Version: 1',
    `Arrival-Date: ${rfc5322Date(new Date(f.received_at))}`,
    ...(f.origin_ip ? [`Source-IP: ${f.origin_ip}`] : []),
    ...(f.sender_domain ? [`Reported-Domain: ${f.sender_domain}`] : []),
  ];
  const sample = toCrlf(redacted);
  const original: MimeNode = isEmbeddable(sample)
    ? { contentType: 'message/rfc822', encoding: '8bit', body: sample }
    : {
        contentType: 'text/rfc822-headers',
        encoding: '8bit',
        body: sample.subarray(0, Math.max(0, sample.indexOf('\r\n\r\n')) + 2),
      };
  const raw = buildMessage(
    { from, to: [to], subject: mailText(lang, 'fbl.subject', { matched }), messageId },
    {
      contentType: 'multipart/report; report-type=feedback-report',
      parts: [
        {
          contentType: 'text/plain; charset=utf-8',
          encoding: '8bit',
          body: `${mailText(lang, 'fbl.text', { matched })}\r\n`,
        },
        { contentType: 'message/feedback-report', encoding: '7bit', body: `${fields.join('\r\n')}\r\n` },
        original,
      ],
    },
  );
  return { messageId, raw };
}
