/**
 * Durable report intake with group commit.
 *
 * Every channel (HTTP, SMTP, SMS, import) hands its reports to one {@link ReportWriter}. A
 * submission (one or more reports that must be stored together or not at all) is acknowledged only
 * after its evidence, its report rows and their analysis jobs are committed in one transaction.
 * Submissions that arrive in the same event-loop turn share one transaction and one fsync, which
 * is what lets SQLite with `synchronous=FULL` take hundreds of concurrent reports per second.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../core/metrics.ts';
import { newId, nowIso, randomSecret } from '../core/ids.ts';
import { prepareMessage, putMessage, type MessageKind, type PreparedMessage } from '../evidence/store.ts';
import { enqueueJob } from '../workers/jobs.ts';
import { isUniqueViolation } from '../db/dialect.ts';
import { AppError } from '../core/errors.ts';

export const CHANNELS = ['api', 'web', 'smtp', 'addon', 'sms', 'arf', 'import'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Job kind enqueued for every new report; the analysis area handles it. */
export const JOB_ANALYSE_REPORT = 'analyse-report';

export interface ReportInput {
  raw: Uint8Array;
  kind?: MessageKind;
  channel: Channel;
  reporterUserId?: string | null;
  reporterTokenId?: string | null;
  reporterAddress?: string | null;
  clientIp?: string | null;
  note?: string | null;
  quality?: 'full' | 'inline';
  /**
   * A report with a key already stored is not stored again; the existing one is returned.
   * A function receives the message's SHA-256 (e.g. bulk import keys on content).
   */
  dedupKey?: string | ((sha256: string) => string) | null;
  context?: Record<string, unknown> | null;
  /** Received time, when the channel knows it (import, SMS); defaults to now. */
  receivedAt?: string;
}

export interface StoredReport {
  id: string;
  sha256: string;
  size: number;
  trackingToken: string;
  /** True when the dedup key matched an existing report and nothing new was stored. */
  duplicate: boolean;
}

interface Unit {
  items: { input: ReportInput; message: PreparedMessage }[];
  resolve: (r: StoredReport[]) => void;
  reject: (e: unknown) => void;
}

export interface ReportWriterOptions {
  logger?: Logger;
  metrics?: Metrics;
  /** Called after each commit with the reports it made durable. */
  onCommitted?: (reports: StoredReport[]) => void;
  /** Upper bound of reports per transaction. */
  maxBatch?: number;
}

export class ReportWriter {
  private pending: Unit[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly opts: ReportWriterOptions = {},
  ) {}

  /** Stores the reports atomically; resolves once they are durable. */
  submit(inputs: ReportInput[]): Promise<StoredReport[]> {
    if (this.closed) return Promise.reject(new AppError('UNAVAILABLE'));
    if (inputs.length === 0) return Promise.resolve([]);
    // Hashing and compression happen here, outside the write transaction.
    const items = inputs.map((input) => ({ input, message: prepareMessage(input.raw, input.kind ?? 'email') }));
    return new Promise((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      this.schedule();
    });
  }

  /** Convenience for one report. */
  async submitOne(input: ReportInput): Promise<StoredReport> {
    const [r] = await this.submit([input]);
    return r;
  }

  /** Number of reports waiting for a commit. */
  get backlog(): number {
    return this.pending.reduce((n, u) => n + u.items.length, 0);
  }

  /** Commits what is pending and refuses new submissions. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.pending.length > 0 || this.flushing) {
      if (this.flushing) await this.flushing;
      else await this.flush();
    }
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushing = this.flush().finally(() => {
        this.flushing = null;
        if (this.pending.length > 0) this.schedule();
      });
    });
  }

  private async flush(): Promise<void> {
    const max = this.opts.maxBatch ?? 2000;
    const batch: Unit[] = [];
    let n = 0;
    while (this.pending.length > 0 && (batch.length === 0 || n + this.pending[0].items.length <= max)) {
      const u = this.pending.shift();
      if (!u) break;
      batch.push(u);
      n += u.items.length;
    }
    if (batch.length === 0) return;
    try {
      const results = await this.db.transaction().execute(async (trx) => {
        const out: StoredReport[][] = [];
        for (const u of batch) out.push(await storeUnit(trx, u));
        return out;
      });
      batch.forEach((u, i) => this.committed(u, results[i]));
    } catch (batchError) {
      // One bad unit must not sink the others: retry each alone. A unique violation means another
      // process stored the same dedup key between our look-up and insert; the retry finds it.
      if (batch.length === 1 && !isUniqueViolation(batchError)) {
        this.failed(batch[0], batchError);
        return;
      }
      for (const u of batch) {
        try {
          const r = await this.db.transaction().execute((trx) => storeUnit(trx, u));
          this.committed(u, r);
        } catch (e) {
          this.failed(u, e);
        }
      }
    }
  }

  private committed(u: Unit, reports: StoredReport[]): void {
    for (const r of reports) {
      if (!r.duplicate) {
        const item = u.items.find((i) => i.message.sha256 === r.sha256);
        this.opts.metrics?.reportsReceived.inc({ channel: item?.input.channel ?? 'unknown' });
      }
    }
    u.resolve(reports);
    this.opts.onCommitted?.(reports);
  }

  private failed(u: Unit, e: unknown): void {
    this.opts.metrics?.errors.inc({ kind: 'report_store' });
    this.opts.logger?.error({ err: e }, 'storing reports failed');
    u.reject(e);
  }
}

async function storeUnit(trx: Kysely<Database>, u: Unit): Promise<StoredReport[]> {
  const out: StoredReport[] = [];
  for (const { input, message } of u.items) {
    const dedupKey = typeof input.dedupKey === 'function' ? input.dedupKey(message.sha256) : (input.dedupKey ?? null);
    if (dedupKey) {
      const existing = await trx
        .selectFrom('reports')
        .select(['id', 'message_sha256', 'tracking_token'])
        .where('dedup_key', '=', dedupKey)
        .executeTakeFirst();
      if (existing) {
        out.push({ id: existing.id, sha256: existing.message_sha256, size: message.size, trackingToken: existing.tracking_token, duplicate: true });
        continue;
      }
    }
    await putMessage(trx, message);
    const id = newId();
    const trackingToken = randomSecret(18);
    await trx
      .insertInto('reports')
      .values({
          id,
          message_sha256: message.sha256,
          channel: input.channel,
          received_at: input.receivedAt ?? nowIso(),
          reporter_user_id: input.reporterUserId ?? null,
          reporter_token_id: input.reporterTokenId ?? null,
          reporter_address: input.reporterAddress ?? null,
          client_ip: input.clientIp ?? null,
          note: input.note ?? null,
          quality: input.quality ?? 'full',
          dedup_key: dedupKey,
          context: input.context ? JSON.stringify(input.context) : null,
          tracking_token: trackingToken,
        })
        .execute();
    await enqueueJob(trx, JOB_ANALYSE_REPORT, { reportId: id, sha256: message.sha256 });
    out.push({ id, sha256: message.sha256, size: message.size, trackingToken, duplicate: false });
  }
  return out;
}
