/**
 * The delivery loop: claims due outbox entries, sends them, records the outcome. It runs as a
 * service of `spamdesk serve` (see `actions-service.ts`), separately from intake, so a slow relay
 * or a dead webhook receiver never delays a report's acknowledgement.
 */
import os from 'node:os';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Logger } from '../../core/logger.ts';
import { claimDue, markFailed, markSent, renewClaims, requeueStale } from './outbox.ts';
import { whileLeased } from '../../workers/lease-queue.ts';
import { deliverMail, deliverWebhook, type DeliveryResult } from './transports.ts';
import type { OutboxRow } from '../../db/actions-tables.ts';
import { createIdleWait } from '../../workers/idle-wait.ts';

export interface DeliveryOptions {
  db: Kysely<Database>;
  logger: Logger;
  relayUrl: string | undefined;
  retryBaseMs: number;
  leaseMs: number;
  /** Entries sent in parallel per round. */
  concurrency?: number;
  workerId?: string;
}

export interface RoundResult {
  claimed: number;
  sent: number;
  retried: number;
  dead: number;
}

const listeners = new Set<() => void>();
/** Wakes the delivery loops of this process (called after an entry is queued). */
export function notifyOutbox(): void {
  for (const l of listeners) l();
}

/** One round: requeue abandoned entries, claim due ones, send them. */
export async function deliverRound(opts: DeliveryOptions): Promise<RoundResult> {
  const workerId = opts.workerId ?? `${os.hostname()}:${process.pid}`;
  await requeueStale(opts.db, opts.leaseMs);
  // Mail waits in the queue while no relay is configured; it is not failed for that.
  const channels = opts.relayUrl ? undefined : ['webhook'];
  const rows = await claimDue(opts.db, workerId, opts.concurrency ?? 8, channels);
  const result: RoundResult = { claimed: rows.length, sent: 0, retried: 0, dead: 0 };
  if (rows.length === 0) return result;
  const ids = rows.map((r) => r.id);
  // A slow relay must not make another process take the entries for abandoned and send them again.
  const lease = {
    leaseMs: opts.leaseMs,
    count: ids.length,
    renew: () => renewClaims(opts.db, workerId, ids),
    onLost: (held: number) => opts.logger.warn({ held, claimed: ids.length }, 'outbox lease lost while sending'),
    onError: (e: unknown) => opts.logger.warn({ err: e }, 'outbox lease renewal failed'),
  };
  await whileLeased(lease, () => sendAll(opts, rows, result));
  return result;
}

async function sendAll(opts: DeliveryOptions, rows: OutboxRow[], result: RoundResult): Promise<void> {
  await Promise.all(
    rows.map(async (row) => {
      const r = await send(row, opts.relayUrl);
      if (r.ok) {
        await markSent(opts.db, row, r.detail);
        result.sent++;
        opts.logger.info(
          { outbox: row.id, channel: row.channel, to: row.destination, detail: r.detail },
          'outbox entry delivered',
        );
        return;
      }
      const state = await markFailed(opts.db, row, r.error, { permanent: r.permanent, baseMs: opts.retryBaseMs });
      if (state === 'dead') result.dead++;
      else result.retried++;
      opts.logger.warn(
        { outbox: row.id, channel: row.channel, to: row.destination, attempts: row.attempts, state, err: r.error },
        'outbox delivery failed',
      );
    }),
  );
}

function send(row: OutboxRow, relayUrl: string | undefined): Promise<DeliveryResult> {
  if (row.channel === 'smtp') return deliverMail(row, relayUrl);
  if (row.channel === 'webhook') return deliverWebhook(row);
  return Promise.resolve({ ok: false, permanent: true, error: `unknown channel ${row.channel}` });
}

/** Runs rounds until nothing is due (tests, `spamdesk outbox flush`). */
export async function drainOutbox(opts: DeliveryOptions): Promise<RoundResult> {
  const total: RoundResult = { claimed: 0, sent: 0, retried: 0, dead: 0 };
  for (;;) {
    const r = await deliverRound(opts);
    total.claimed += r.claimed;
    total.sent += r.sent;
    total.retried += r.retried;
    total.dead += r.dead;
    if (r.claimed === 0) return total;
  }
}

export interface DeliveryLoop {
  stop(): Promise<void>;
}

/** Runs rounds forever: at once when woken, otherwise every `pollMs`. */
export function startDeliveryLoop(
  opts: DeliveryOptions & { pollMs?: number; onIdle?: () => Promise<void> },
): DeliveryLoop {
  let stopping = false;
  const idle = createIdleWait();
  const listener = () => idle.wake();
  listeners.add(listener);
  const loop = (async () => {
    while (!stopping) {
      let claimed = 0;
      try {
        claimed = (await deliverRound(opts)).claimed;
        if (claimed === 0) await opts.onIdle?.();
      } catch (e) {
        opts.logger.error({ err: e }, 'outbox round failed');
      }
      if (claimed > 0 || stopping) continue;
      await idle.wait(opts.pollMs ?? 1000);
    }
  })();
  return {
    async stop() {
      stopping = true;
      idle.wake();
      listeners.delete(listener);
      await loop;
    },
  };
}
