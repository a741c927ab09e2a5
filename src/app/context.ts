/**
 * Builds the {@link AppContext} (declared in `evidence/context.ts`, where the areas can name it):
 * configuration, database, logger, metrics and the report writer. Built once by the entry point
 * (or by a test) and passed down explicitly.
 */
import type { Config } from '../core/config.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { createMetrics } from '../core/metrics.ts';
import { openDatabase, type DB } from '../db/dialect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { ReportWriter, type StoredReport } from '../evidence/report-writer.ts';
import type { AppContext } from '../evidence/context.ts';
import { InflightBudget } from '../core/inflight-budget.ts';
import { openSingletonLocks } from '../db/singleton-locks.ts';
import { FIRST_JOB } from './pipeline.ts';

export type { AppContext } from '../evidence/context.ts';

export interface ContextOptions {
  /** Use this database instead of opening the configured one (tests). */
  db?: DB;
  logger?: Logger;
  migrate?: boolean;
  /** Overrides the `sqliteCommitThread` setting (false: commit on this thread). */
  commitThread?: boolean;
  /** SQLite page cache of the main connection, KiB (default 64 MiB; bulk import needs less). */
  cacheKib?: number;
}

export async function createContext(config: Config, opts: ContextOptions = {}): Promise<AppContext> {
  const logger = opts.logger ?? createLogger(config);
  const db =
    opts.db ??
    openDatabase(config.database, {
      synchronous: config.sqliteSynchronous,
      ...(opts.cacheKib === undefined ? {} : { cacheKib: opts.cacheKib }),
    });
  if (opts.migrate !== false) await migrateToLatest(db);
  const metrics = createMetrics();
  const onReports = new Set<(reports: StoredReport[]) => void>();
  const writer = new ReportWriter(db, {
    logger,
    metrics,
    nextJob: FIRST_JOB,
    // SQLite commits (and their fsyncs) run in a thread of their own; see sqlite-commit-thread.ts.
    ...(config.database.dialect === 'sqlite' &&
    config.database.path !== ':memory:' &&
    (opts.commitThread ?? config.sqliteCommitThread)
      ? { commitThread: { path: config.database.path, synchronous: config.sqliteSynchronous } }
      : {}),
    onCommitted: (reports) => {
      for (const l of onReports) l(reports);
    },
  });
  return {
    config,
    db,
    logger,
    metrics,
    writer,
    onReports,
    intakeBudget: new InflightBudget(config.intakeMemoryBudgetBytes),
    singletons: openSingletonLocks(config.database, {
      onChange: (name, held, reason) => {
        if (held) logger.info({ singleton: name }, 'singleton taken: this process runs it');
        else logger.warn({ singleton: name, reason }, 'singleton not held');
      },
    }),
  };
}

/** Flushes pending reports and closes the database (unless the caller owns it). */
export async function closeContext(ctx: AppContext, opts: { keepDb?: boolean } = {}): Promise<void> {
  await ctx.writer.close();
  await ctx.singletons.close();
  if (!opts.keepDb) await ctx.db.destroy();
}
