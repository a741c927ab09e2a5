/**
 * The durable outbox: everything that leaves the platform (referrals, ISP digests, feedback
 * reports, webhook calls) is a row here first, written in the same transaction as the action that
 * caused it, and delivered later by the delivery loop. Sending therefore never blocks intake, and
 * a crash loses nothing: an entry claimed by a dead process is tried again after its lease.
 *
 * Delivery is at-least-once; the idempotency key (the Message-ID of a mail, the `Idempotency-Key`
 * header of a webhook call) is fixed when the entry is written and the stored bytes are sent
 * unchanged on every attempt, so a receiver drops the duplicate.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { backoffDelayMs, createLeaseQueue } from '../../workers/lease-queue.ts';
import { newId, nowIso, sha256Hex } from '../../core/ids.ts';
import type { OutboxRow } from '../../db/actions-tables.ts';
import { writeAudit } from '../../evidence/audit.ts';

export const OUTBOX_STATES = ['queued', 'sending', 'sent', 'dead'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

/** Longest backoff between two attempts. */
export const MAX_BACKOFF_MS = 6 * 60 * 60 * 1000;

/**
 * The outbox as a lease queue (`workers/lease-queue.ts`, shared with the job queue): a claimed
 * entry is `sending`, a delivered one stays as `sent` with its time; the back-off base is the
 * setting `outboxRetryBaseMs`, passed at each failure.
 */
export const OUTBOX_QUEUE = createLeaseQueue<OutboxRow>({
  table: 'action_outbox',
  dueColumn: 'next_attempt_at',
  leasedState: 'sending',
  filterColumn: 'channel',
  done: { kind: 'state', state: 'sent', atColumn: 'sent_at' },
  maxErrorChars: 2000,
  backoff: { baseMs: 1000, maxMs: MAX_BACKOFF_MS },
});

export interface OutboxDefaults {
  maxAttempts: number;
}

interface CommonEntry {
  purpose: string;
  subjectId?: string | null;
  description: string;
  maxAttempts: number;
}

export interface MailEntry extends CommonEntry {
  /** Message-ID, with angle brackets, exactly as in the message. */
  messageId: string;
  envelopeFrom: string;
  to: string;
  /** The complete RFC 5322 message. */
  raw: Buffer;
}

export interface WebhookEntry extends CommonEntry {
  url: string;
  idempotencyKey: string;
  contentType: string;
  body: Buffer;
  headers?: Record<string, string>;
}

/** What differs between a mail and a webhook entry; the queueing state is the same for both. */
interface EntryTarget {
  channel: 'smtp' | 'webhook';
  idempotencyKey: string;
  destination: string;
  envelopeFrom: string | null;
  headers: Record<string, string>;
  body: Buffer;
  contentType: string;
}

async function insertEntry(db: Kysely<Database>, t: EntryTarget, e: CommonEntry): Promise<string> {
  // The entry and its audit record commit together (chain of custody of what leaves).
  if (!db.isTransaction) return db.transaction().execute((trx) => insertEntry(trx, t, e));
  const id = newId();
  const now = nowIso();
  await db
    .insertInto('action_outbox')
    .values({
      id,
      channel: t.channel,
      idempotency_key: t.idempotencyKey,
      destination: t.destination,
      envelope_from: t.envelopeFrom,
      headers: JSON.stringify(t.headers),
      body: t.body,
      body_sha256: sha256Hex(t.body),
      content_type: t.contentType,
      state: 'queued',
      attempts: 0,
      max_attempts: e.maxAttempts,
      next_attempt_at: now,
      last_error: null,
      locked_by: null,
      locked_at: null,
      purpose: e.purpose,
      subject_id: e.subjectId ?? null,
      description: e.description.slice(0, 500),
      created_at: now,
      updated_at: now,
      sent_at: null,
    })
    .execute();
  await writeAudit(db, {
    actor: 'outbox',
    action: 'outbound.queued',
    subject: `outbox:${id}`,
    detail: {
      purpose: e.purpose,
      subjectId: e.subjectId ?? null,
      channel: t.channel,
      destination: t.destination,
      sha256: sha256Hex(t.body),
      size: t.body.length,
    },
  });
  return id;
}

/** Queues a mail. Call inside the transaction of the action that sends it. */
export function enqueueMail(db: Kysely<Database>, e: MailEntry): Promise<string> {
  return insertEntry(
    db,
    {
      channel: 'smtp',
      idempotencyKey: `mail:${e.messageId}:${e.to}`,
      destination: e.to,
      envelopeFrom: e.envelopeFrom,
      headers: { 'message-id': e.messageId },
      body: e.raw,
      contentType: 'message/rfc822',
    },
    e,
  );
}

/** Queues a webhook call. Call inside the transaction of the action that sends it. */
export function enqueueWebhook(db: Kysely<Database>, e: WebhookEntry): Promise<string> {
  return insertEntry(
    db,
    {
      channel: 'webhook',
      idempotencyKey: `webhook:${e.idempotencyKey}:${e.url}`.slice(0, 300),
      destination: e.url,
      envelopeFrom: null,
      headers: { ...(e.headers ?? {}), 'idempotency-key': e.idempotencyKey },
      body: e.body,
      contentType: e.contentType,
    },
    e,
  );
}

/** Claims up to `limit` due entries for `workerId` (SKIP LOCKED on PostgreSQL). */
export function claimDue(
  db: Kysely<Database>,
  workerId: string,
  limit: number,
  channels?: readonly string[],
): Promise<OutboxRow[]> {
  return OUTBOX_QUEUE.claim(db, workerId, limit, channels);
}

/** Extends the lease of entries `workerId` is still sending; returns how many it holds. */
export function renewClaims(db: Kysely<Database>, workerId: string, ids: readonly string[]): Promise<number> {
  return OUTBOX_QUEUE.renew(db, workerId, ids);
}

/** Marks an entry sent and records in the audit chain what left, to whom, with which hash. */
export async function markSent(
  db: Kysely<Database>,
  row: Pick<OutboxRow, 'id' | 'channel' | 'destination' | 'body_sha256' | 'purpose' | 'subject_id'>,
  detail?: string,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await OUTBOX_QUEUE.complete(trx, row.id);
    await writeAudit(trx, {
      actor: 'outbox',
      action: 'outbound.sent',
      subject: `outbox:${row.id}`,
      detail: {
        purpose: row.purpose,
        subjectId: row.subject_id,
        channel: row.channel,
        destination: row.destination,
        sha256: row.body_sha256,
        response: detail?.slice(0, 300) ?? null,
      },
    });
  });
}

/** Exponential backoff: base · 2^(attempts−1), capped. */
export function backoffMs(attempts: number, baseMs: number): number {
  return backoffDelayMs(attempts, baseMs, MAX_BACKOFF_MS);
}

/**
 * Records a failed attempt. A permanent failure (SMTP 5xx, HTTP 4xx other than 408/425/429) or the
 * last allowed attempt moves the entry to `dead`; otherwise it is retried after the backoff.
 */
export function markFailed(
  db: Kysely<Database>,
  row: OutboxRow,
  error: string,
  opts: { permanent: boolean; baseMs: number },
): Promise<OutboxState> {
  return OUTBOX_QUEUE.fail(db, row, error, {
    maxAttempts: row.max_attempts,
    permanent: opts.permanent,
    baseMs: opts.baseMs,
  });
}

/** Entries left in `sending` by a process that died are queued again. Returns how many. */
export function requeueStale(db: Kysely<Database>, leaseMs: number): Promise<number> {
  return OUTBOX_QUEUE.requeueStale(db, leaseMs);
}

/** Puts a dead (or queued) entry back for immediate delivery; returns false when it is sent or unknown. */
export async function retryEntry(db: Kysely<Database>, id: string): Promise<boolean> {
  return (await OUTBOX_QUEUE.requeue(db, { ids: [id], states: ['dead', 'queued'] })) > 0;
}

/** Queues every dead entry again. */
export function retryAllDead(db: Kysely<Database>): Promise<number> {
  return OUTBOX_QUEUE.requeue(db);
}

/** The listing columns (never the body). */
export type OutboxSummary = Omit<OutboxRow, 'body' | 'headers'>;

const SUMMARY_COLUMNS = [
  'id',
  'channel',
  'idempotency_key',
  'destination',
  'envelope_from',
  'body_sha256',
  'content_type',
  'state',
  'attempts',
  'max_attempts',
  'next_attempt_at',
  'last_error',
  'locked_by',
  'locked_at',
  'purpose',
  'subject_id',
  'description',
  'created_at',
  'updated_at',
  'sent_at',
] as const;

export async function listOutbox(
  db: Kysely<Database>,
  opts: { state?: string; limit?: number; before?: string } = {},
): Promise<OutboxSummary[]> {
  let q = db
    .selectFrom('action_outbox')
    .select(SUMMARY_COLUMNS)
    .orderBy('id', 'desc')
    .limit(Math.min(opts.limit ?? 100, 1000));
  if (opts.state) q = q.where('state', '=', opts.state);
  if (opts.before) q = q.where('id', '<', opts.before);
  return q.execute();
}

export async function getOutboxEntry(db: Kysely<Database>, id: string): Promise<OutboxRow | undefined> {
  return db.selectFrom('action_outbox').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function outboxCounts(db: Kysely<Database>): Promise<Record<OutboxState, number>> {
  const rows = await db
    .selectFrom('action_outbox')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  const out: Record<OutboxState, number> = { queued: 0, sending: 0, sent: 0, dead: 0 };
  for (const r of rows) if (isOutboxState(r.state)) out[r.state] = Number(r.n);
  return out;
}

export function isOutboxState(s: string): s is OutboxState {
  return (OUTBOX_STATES as readonly string[]).includes(s);
}
