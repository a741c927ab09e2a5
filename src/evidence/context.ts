/**
 * The contracts between the areas and the wiring in `src/app/`: what every long-lived part receives
 * ({@link AppContext}), and the shapes of what an area offers in its `area.ts` (services, report-view
 * parts, start-up hooks; the shapes of job work are in `workers/handlers.ts`). Only types: the lists live in
 * `src/app/areas.ts`. They sit in the evidence layer because the context carries the report writer,
 * and this is the lowest layer that can name everything the context holds.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Config, Role } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../core/metrics.ts';
import type { InflightBudget } from '../core/inflight-budget.ts';
import type { DB } from '../db/dialect.ts';
import type { SingletonLocks } from '../db/singleton-locks.ts';
import type { Database } from '../db/schema.ts';
import type { Report } from '../db/tables.ts';
import type { StoredReport } from './report-input.ts';
import type { ReportWriter } from './report-writer.ts';

/**
 * What every long-lived part of Spamdesk receives: configuration, database, logger, metrics and
 * the report writer. Built once by the entry point (or by a test, `app/context.ts`) and passed down
 * explicitly.
 */
export interface AppContext {
  config: Config;
  db: DB;
  logger: Logger;
  metrics: Metrics;
  writer: ReportWriter;
  /** Message bytes in flight across HTTP and SMTP intake (`intakeMemoryBudgetBytes`). */
  intakeBudget: InflightBudget;
  /** Listeners told about every committed report (wakes the workers, feeds live views). */
  onReports: Set<(reports: StoredReport[]) => void>;
  /**
   * Work that runs in one process at a time across every process on the database (roll-ups,
   * digests, retention): a service `want`s its name and runs while it holds it (`db/singleton-locks.ts`).
   */
  singletons: SingletonLocks;
}

export interface RunningService {
  /** One line for the start-up banner, e.g. `SMTP intake on 127.0.0.1:2525`. */
  describe(): string;
  stop(): Promise<void>;
}

/**
 * A long-running service `spamdesk serve` starts besides HTTP and the workers (the SMTP intake,
 * schedulers for digests and the outbox…). An area lists its factories in its `area.ts`.
 */
export interface ServiceFactory {
  name: string;
  /** The `serve --only` role that runs it. */
  role: Role;
  /** False when configuration disables it. */
  enabled(ctx: AppContext): boolean;
  start(ctx: AppContext): Promise<RunningService>;
}

/** Adds one named section to a report's view (GET /api/v1/reports/:id); undefined when it has nothing to say. */
export type ReportViewPart = {
  name: string;
  load: (db: Kysely<Database>, report: Report) => Promise<unknown>;
};

/**
 * A hook `spamdesk serve` runs once the platform is up; it may print lines in the banner (the
 * accounts area creates the first admin on a fresh database and prints its one-time password).
 */
export type StartupHook = (ctx: AppContext) => Promise<string[] | undefined>;

/**
 * An area's front door (`<area>/area.ts`): everything it offers the platform. `src/app/areas.ts`
 * lists the areas in the order of the flow; `src/app/pipeline.ts` takes the job work from `jobs`.
 */
export interface Area {
  name: string;
  /** Fastify route plugins, registered by `buildApp` in the order of the areas. */
  routes?: ((app: FastifyInstance) => Promise<void>)[];
  /** Factories of the work of this area's jobs (named in `app/pipeline.ts`). */
  jobs?: Record<string, (...handOn: never[]) => unknown>;
  services?: ServiceFactory[];
  /** Sections of GET /api/v1/reports/:id, in display order. */
  reportViewParts?: ReportViewPart[];
  startupHooks?: StartupHook[];
}
