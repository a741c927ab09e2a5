/**
 * The composition root: database, HTTP, workers and the registered services of the roles this
 * process runs (`serve --only`, `config.roles`), with graceful shutdown (stop accepting, finish
 * requests in flight, commit pending reports, close).
 */
import type { FastifyInstance } from 'fastify';
import type { Config, Role } from '../core/config.ts';
import { closeContext, createContext, type AppContext, type ContextOptions } from './context.ts';
import type { RunningService } from '../evidence/context.ts';
import { SERVICES } from './areas.ts';
import { jobHandlers } from './pipeline.ts';
import { buildApp } from './build-app.ts';
import { startWorkers, type WorkerRunner } from '../workers/runner.ts';
import { IdleCollector } from '../core/idle-collector.ts';
import { autovacuumWarning } from '../db/pg-autovacuum.ts';

export interface Platform {
  ctx: AppContext;
  /** The roles this process runs. */
  roles: readonly Role[];
  /** Null when this process does not run the `http` role. */
  app: FastifyInstance | null;
  url: string | null;
  services: RunningService[];
  workers: WorkerRunner | null;
  stop(): Promise<void>;
}

/**
 * SQLite page cache, KiB, of a process that runs no intake (`http`, `smtp`): the background child, or a
 * `serve --only workers,…`. Its work reads and writes recent rows; with the default 64 MiB the cache grew
 * with the database and the child's peak RSS with it. 16 against 64 MiB in the child, e2e bench on SQLite
 * (3,000 reports, three pairs): peak RSS of both processes 685, 684, 767 against 738, 746, 741 MB, the same
 * rate and CPU (bench/RESULTS.md 2026-12-04 07:20–07:45). The web process keeps the default for the
 * workbench's page queries.
 */
export const BACKGROUND_CACHE_KIB = 16 * 1024;

export async function startPlatform(
  config: Config,
  opts: ContextOptions & { keepDb?: boolean } = {},
): Promise<Platform> {
  const roles = config.roles;
  const intake = roles.includes('http') || roles.includes('smtp');
  const ctx = await createContext(config, {
    ...opts,
    ...(opts.cacheKib === undefined && !intake ? { cacheKib: BACKGROUND_CACHE_KIB } : {}),
  });
  if (roles.includes('workers')) {
    const warning = await autovacuumWarning(ctx.db, config.database.dialect);
    if (warning) ctx.logger.warn(warning);
  }
  let app: FastifyInstance | null = null;
  if (roles.includes('http')) {
    app = await buildApp(ctx);
    await app.listen({ host: config.httpHost, port: config.httpPort });
  }
  const url = app?.publicUrl() ?? null;
  const services: RunningService[] = [];
  for (const s of SERVICES) {
    if (roles.includes(s.role) && s.enabled(ctx)) services.push(await s.start(ctx));
  }
  const workers =
    roles.includes('workers') && config.workers > 0
      ? startWorkers(ctx, jobHandlers(), { leaseMs: config.jobLeaseSeconds * 1000 })
      : null;
  // The bodies of a burst of large messages are given back once the intake is quiet (idle-collector.ts).
  const stopCollector = intake ? new IdleCollector(ctx.intakeBudget).start() : null;
  let stopped: Promise<void> | null = null;
  return {
    ctx,
    roles,
    app,
    url,
    services,
    workers,
    stop() {
      stopped ??= (async () => {
        stopCollector?.();
        for (const s of services) await s.stop();
        await app?.close();
        await workers?.stop();
        await closeContext(ctx, { keepDb: opts.keepDb });
      })();
      return stopped;
    },
  };
}
