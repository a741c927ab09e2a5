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
import type { NewReport } from '../db/tables.ts';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../core/metrics.ts';
import { newId, nowIso, randomSecret } from '../core/ids.ts';
import { prepareMessageAsync, type MessageKind, type PreparedMessage } from '../evidence/store.ts';
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
  /**
   * With a dedup key: when the key is already stored for a *different* message, fail with
   * `CONFLICT` instead of answering with the earlier report (HTTP `Idempotency-Key` reuse).
   */
  dedupRequiresSameMessage?: boolean;
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

interface Item {
  input: ReportInput;
  message: PreparedMessage;
}

interface Unit {
  items: Item[];
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

/** Rows per multi-row INSERT: far below SQLite's 32,766 and PostgreSQL's 65,535 bound variables. */
const ROWS_PER_STATEMENT = 400;
/** Evidence bytes per multi-row INSERT, so one statement never carries hundreds of megabytes. */
const BYTES_PER_STATEMENT = 16 * 1024 * 1024;

export class ReportWriter {
  private pending: Unit[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private closed = false;
  /** Submissions still being hashed/compressed; `close()` waits for them. */
  private preparing = new Set<Promise<unknown>>();
  /** Transactions committed and reports (new or duplicate) they carried: the group-commit ratio. */
  readonly stats = { commits: 0, reports: 0 };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly opts: ReportWriterOptions = {},
  ) {}

  /**
   * Stores the reports atomically (all of them or none); resolves once they are durable.
   * Rejects with the storage error, or `AppError('CONFLICT')` for a reused idempotency key.
   */
  submit(inputs: ReportInput[]): Promise<StoredReport[]> {
    if (this.closed) return Promise.reject(new AppError('UNAVAILABLE'));
    if (inputs.length === 0) return Promise.resolve([]);
    // Hashing and compression happen here, outside the write transaction and off the event loop.
    const prepared = Promise.all(inputs.map(async (input) => ({ input, message: await prepareMessageAsync(input.raw, input.kind ?? 'email') })));
    const done = prepared.then(
      (items) =>
        new Promise<StoredReport[]>((resolve, reject) => {
          this.pending.push({ items, resolve, reject });
          this.schedule();
        }),
    );
    const tracked = prepared.finally(() => this.preparing.delete(tracked));
    this.preparing.add(tracked);
    tracked.catch(() => undefined);
    return done;
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

  /** Commits everything already submitted and refuses new submissions. */
  async close(): Promise<void> {
    this.closed = true;
    for (;;) {
      if (this.preparing.size > 0) await Promise.allSettled([...this.preparing]);
      else if (this.flushing) await this.flushing;
      else if (this.pending.length > 0) await this.runFlush();
      else return;
    }
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    // setImmediate: every submission that arrives in this event-loop turn joins the same commit.
    setImmediate(() => {
      this.scheduled = false;
      if (!this.flushing) void this.runFlush();
    });
  }

  private runFlush(): Promise<void> {
    const p = this.flush().finally(() => {
      if (this.flushing === p) this.flushing = null;
      if (this.pending.length > 0) this.schedule();
    });
    this.flushing = p;
    return p;
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
      const results = await this.db.transaction().execute((trx) => storeUnits(trx, batch));
      this.stats.commits++;
      this.stats.reports += n;
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
          const [r] = await this.db.transaction().execute((trx) => storeUnits(trx, [u]));
          this.committed(u, r);
        } catch (e) {
          this.failed(u, e);
        }
      }
    }
  }

  private committed(u: Unit, reports: StoredReport[]): void {
    reports.forEach((r, i) => {
      if (!r.duplicate) this.opts.metrics?.reportsReceived.inc({ channel: u.items[i].input.channel });
    });
    u.resolve(reports);
    this.opts.onCommitted?.(reports);
  }

  private failed(u: Unit, e: unknown): void {
    if (e instanceof AppError && e.status < 500) {
      u.reject(e);
      return;
    }
    this.opts.metrics?.errors.inc({ kind: 'report_store' });
    this.opts.logger?.error({ err: e }, 'storing reports failed');
    u.reject(e);
  }
}

function chunks<T>(rows: T[], size: (row: T) => number = () => 0): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const r of rows) {
    const b = size(r);
    if (cur.length > 0 && (cur.length >= ROWS_PER_STATEMENT || bytes + b > BYTES_PER_STATEMENT)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(r);
    bytes += b;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Stores several units in one transaction with a handful of multi-row statements: look up dedup
 * keys and known evidence, then insert new evidence, reports and their analysis jobs.
 */
async function storeUnits(trx: Kysely<Database>, units: Unit[]): Promise<StoredReport[][]> {
  const keyOf = (it: Item): string | null =>
    typeof it.input.dedupKey === 'function' ? it.input.dedupKey(it.message.sha256) : (it.input.dedupKey ?? null);
  const keys = units.flatMap((u) => u.items.map(keyOf));
  const wantedKeys = [...new Set(keys.filter((k): k is string => k !== null))];
  const existing = new Map<string, { id: string; sha256: string; trackingToken: string }>();
  for (const part of chunks(wantedKeys)) {
    const rows = await trx.selectFrom('reports').select(['id', 'message_sha256', 'tracking_token', 'dedup_key']).where('dedup_key', 'in', part).execute();
    for (const r of rows) if (r.dedup_key) existing.set(r.dedup_key, { id: r.id, sha256: r.message_sha256, trackingToken: r.tracking_token });
  }

  const now = nowIso();
  const reportRows: NewReport[] = [];
  const newMessages = new Map<string, PreparedMessage>();
  const out: StoredReport[][] = [];
  let k = 0;
  for (const u of units) {
    const stored: StoredReport[] = [];
    for (const it of u.items) {
      const dedupKey = keys[k++];
      const { input, message } = it;
      const prior = dedupKey === null ? undefined : existing.get(dedupKey);
      if (prior) {
        if (input.dedupRequiresSameMessage && prior.sha256 !== message.sha256) {
          throw new AppError('CONFLICT', 'This idempotency key was already used for a different message.');
        }
        stored.push({ id: prior.id, sha256: prior.sha256, size: message.size, trackingToken: prior.trackingToken, duplicate: true });
        continue;
      }
      const id = newId();
      const trackingToken = randomSecret(18);
      if (dedupKey !== null) existing.set(dedupKey, { id, sha256: message.sha256, trackingToken });
      newMessages.set(message.sha256, message);
      reportRows.push({
        id,
        message_sha256: message.sha256,
        channel: input.channel,
        received_at: input.receivedAt ?? now,
        reporter_user_id: input.reporterUserId ?? null,
        reporter_token_id: input.reporterTokenId ?? null,
        reporter_address: input.reporterAddress ?? null,
        client_ip: input.clientIp ?? null,
        note: input.note ?? null,
        quality: input.quality ?? 'full',
        dedup_key: dedupKey,
        context: input.context ? JSON.stringify(input.context) : null,
        tracking_token: trackingToken,
      });
      stored.push({ id, sha256: message.sha256, size: message.size, trackingToken, duplicate: false });
    }
    out.push(stored);
  }
  if (reportRows.length === 0) return out;

  // Evidence already stored is not sent again (a popular spam is reported thousands of times).
  const shas = [...newMessages.keys()];
  for (const part of chunks(shas)) {
    const rows = await trx.selectFrom('messages').select('sha256').where('sha256', 'in', part).execute();
    for (const r of rows) newMessages.delete(r.sha256);
  }
  for (const part of chunks([...newMessages.values()], (m) => m.content.length)) {
    await trx
      .insertInto('messages')
      .values(part.map((m) => ({ sha256: m.sha256, kind: m.kind, size: m.size, codec: m.codec, content: m.content, first_seen_at: now })))
      .onConflict((oc) => oc.column('sha256').doNothing())
      .execute();
  }
  for (const part of chunks(reportRows)) await trx.insertInto('reports').values(part).execute();
  for (const part of chunks(reportRows)) {
    await trx
      .insertInto('jobs')
      .values(
        part.map((r) => ({
          id: newId(),
          kind: JOB_ANALYSE_REPORT,
          payload: JSON.stringify({ reportId: r.id, sha256: r.message_sha256 }),
          state: 'queued',
          run_at: now,
          attempts: 0,
          locked_by: null,
          locked_at: null,
          last_error: null,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
  }
  return out;
}
