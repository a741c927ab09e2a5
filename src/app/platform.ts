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

export async function startPlatform(
  config: Config,
  opts: ContextOptions & { keepDb?: boolean } = {},
): Promise<Platform> {
  const roles = config.roles;
  const ctx = await createContext(config, opts);
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
  const stopCollector =
    roles.includes('http') || roles.includes('smtp') ? new IdleCollector(ctx.intakeBudget).start() : null;
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
