/**
 * Durable report intake with group commit.
 *
 * Every channel (HTTP, SMTP, SMS, import) hands its reports to one {@link ReportWriter}. A
 * submission (one or more reports that must be stored together or not at all) is acknowledged only
 * after its evidence, its report rows and their analysis jobs are committed in one transaction.
 * Submissions that arrive in the same event-loop turn share one transaction and one fsync, which
 * is what lets SQLite with `synchronous=FULL` take hundreds of concurrent reports per second.
 */
import type { Worker } from 'node:worker_threads';
import { siblingModule, startTsWorker } from '../core/ts-worker.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../core/metrics.ts';
import {
  HASH_SLICE_BYTES,
  hashMessage,
  hashMessageAsync,
  prepareMessageAsync,
  type HashedMessage,
  type PreparedMessage,
} from './store.ts';
import { isUniqueViolation } from '../db/dialect.ts';
import { AppError } from '../core/errors.ts';
import type { ReportInput, StoredReport } from './report-input.ts';
import { fromWireError, storeUnits, type CommitResponse, type WireUnit } from './store-units.ts';
import { packRaw } from './wire-raw.ts';
import type { CommitRequest, CommitThreadData } from './sqlite-commit-thread.ts';

export { CHANNELS, type Channel, type ReportFields, type ReportInput, type StoredReport } from './report-input.ts';

interface Unit {
  wire: WireUnit;
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
  /**
   * SQLite file: commit in a worker thread on its own connection (see sqlite-commit-thread.ts).
   * Unset: commit on `db` in this thread (PostgreSQL, whose driver does not block).
   */
  commitThread?: CommitThreadData;
  /**
   * The job every new report becomes, enqueued in the report's own transaction (`FIRST_JOB` of
   * app/pipeline.ts: the writer does not know what comes next). Unset: reports are only stored.
   */
  nextJob?: string;
}

interface CommitThread {
  worker: Worker;
  nextId: number;
  waiting: Map<number, { resolve: (r: StoredReport[][]) => void; reject: (e: unknown) => void }>;
}

/**
 * A prepared message whose content is a view of a larger buffer (import batches) gets a buffer of
 * its own before it crosses to the commit thread: a structured clone copies a view's whole buffer.
 */
function ownBuffer(m: PreparedMessage): PreparedMessage {
  return m.content.byteLength === m.content.buffer.byteLength ? m : { ...m, content: Buffer.from(m.content) };
}

function toWire(input: ReportInput, message: PreparedMessage | HashedMessage): WireUnit['items'][number] {
  const { raw: _raw, prepared: _prepared, dedupKey, ...rest } = input;
  // The key assigned to the rest, not spread into a new literal with it: a property after a spread
  // takes V8's slow path (~2 µs per report against 0.2).
  const key = typeof dedupKey === 'function' ? dedupKey(message.sha256) : (dedupKey ?? null);
  return { input: Object.assign(rest, { dedupKey: key }), message };
}

export class ReportWriter {
  private pending: Unit[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private closed = false;
  /** Submissions still being hashed/compressed; `close()` waits for them. */
  private preparing = new Set<Promise<unknown>>();
  private thread: CommitThread | null = null;
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
    // Hashing happens here. Compression too when this thread commits (outside the transaction,
    // large messages off the event loop); the SQLite commit thread compresses on its own core,
    // and only the messages whose evidence is new.
    const prepared = this.opts.commitThread
      ? Promise.all(
          inputs.map(async (input) =>
            toWire(
              input,
              input.prepared
                ? ownBuffer(input.prepared)
                : input.raw.length > HASH_SLICE_BYTES
                  ? await hashMessageAsync(input.raw, input.kind ?? 'email')
                  : hashMessage(input.raw, input.kind ?? 'email'),
            ),
          ),
        )
      : Promise.all(
          inputs.map(async (input) =>
            toWire(input, input.prepared ?? (await prepareMessageAsync(input.raw, input.kind ?? 'email'))),
          ),
        );
    const done = prepared.then(
      (items) =>
        new Promise<StoredReport[]>((resolve, reject) => {
          this.pending.push({ wire: { items }, resolve, reject });
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
    return this.pending.reduce((n, u) => n + u.wire.items.length, 0);
  }

  /** Commits everything already submitted and refuses new submissions. */
  async close(): Promise<void> {
    this.closed = true;
    for (;;) {
      if (this.preparing.size > 0) await Promise.allSettled([...this.preparing]);
      else if (this.flushing) await this.flushing;
      else if (this.pending.length > 0) await this.runFlush();
      else break;
    }
    const thread = this.thread;
    this.thread = null;
    if (thread) {
      const exited = new Promise((resolve) => thread.worker.once('exit', resolve));
      thread.worker.postMessage('close');
      await exited;
    }
  }

  /** Runs one transaction over `units`, in the commit thread or here. */
  private commit(units: WireUnit[]): Promise<StoredReport[][]> {
    if (!this.opts.commitThread)
      return this.db.transaction().execute((trx) => storeUnits(trx, units, this.opts.nextJob ?? null));
    const thread = this.startThread(this.opts.commitThread);
    const id = thread.nextId++;
    // Raw bytes cross in one transferred buffer: cloning thousands of small buffers one by one
    // cost more main-thread time than compressing them.
    const packed = packRaw(units);
    return new Promise((resolve, reject) => {
      thread.waiting.set(id, { resolve, reject });
      thread.worker.postMessage(
        { id, units: packed.units, raw: packed.buffer, nextJob: this.opts.nextJob ?? null } satisfies CommitRequest,
        [packed.buffer],
      );
    });
  }

  private startThread(data: CommitThreadData): CommitThread {
    if (this.thread) return this.thread;
    const worker = startTsWorker(siblingModule('./sqlite-commit-thread.ts', import.meta.url), {
      ...data,
      role: 'spamdesk-commit-thread',
    } satisfies CommitThreadData);
    const thread: CommitThread = { worker, nextId: 1, waiting: new Map() };
    worker.on('message', (msg: CommitResponse) => {
      const w = thread.waiting.get(msg.id);
      if (!w) return;
      thread.waiting.delete(msg.id);
      if ('ok' in msg) w.resolve(msg.ok);
      else w.reject(fromWireError(msg.error));
    });
    const failAll = (e: unknown) => {
      for (const w of thread.waiting.values()) w.reject(e);
      thread.waiting.clear();
      if (this.thread === thread) this.thread = null;
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`SQLite commit thread exited (${code})`)));
    this.thread = thread;
    return thread;
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
    while (this.pending.length > 0 && (batch.length === 0 || n + this.pending[0].wire.items.length <= max)) {
      const u = this.pending.shift();
      if (!u) break;
      batch.push(u);
      n += u.wire.items.length;
    }
    if (batch.length === 0) return;
    try {
      const results = await this.commit(batch.map((u) => u.wire));
      this.stats.commits++;
      this.stats.reports += n;
      batch.forEach((u, i) => {
        this.committed(u, results[i]);
      });
    } catch (batchError) {
      // One bad unit must not sink the others: retry each alone. A unique violation means another
      // process stored the same dedup key between our look-up and insert; the retry finds it.
      if (batch.length === 1 && !isUniqueViolation(batchError)) {
        this.failed(batch[0], batchError);
        return;
      }
      for (const u of batch) {
        try {
          const [r] = await this.commit([u.wire]);
          this.committed(u, r);
        } catch (e) {
          this.failed(u, e);
        }
      }
    }
  }

  private committed(u: Unit, reports: StoredReport[]): void {
    reports.forEach((r, i) => {
      if (!r.duplicate) this.opts.metrics?.reportsReceived.inc({ channel: u.wire.items[i].input.channel });
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
