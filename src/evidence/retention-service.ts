/**
 * The retention service of `spamdesk serve`: applies the retention periods every
 * `SPAMDESK_RETENTION_INTERVAL_MINUTES` (first run a minute after start, so a start-up is never
 * slowed by it). One process at a time runs it (the `retention` singleton; every step is idempotent
 * and the audit prune is serialised by the chain's head lock, so a take-over mid-run is harmless).
 * Listed in `area.ts`.
 */
import type { ServiceFactory } from './context.ts';
import { applyRetention } from './retention.ts';

const FIRST_RUN_MS = 60_000;
/** Name of the retention service's singleton lock. */
export const RETENTION_SINGLETON = 'retention';

export const retentionService: ServiceFactory = {
  name: 'retention',
  role: 'scheduler',
  enabled: (ctx) => ctx.config.retentionIntervalMinutes > 0,
  async start(ctx) {
    const logger = ctx.logger.child({ component: 'retention' });
    let running: Promise<void> | null = null;
    await ctx.singletons.want(RETENTION_SINGLETON);
    const tick = (): void => {
      if (!ctx.singletons.held(RETENTION_SINGLETON)) return;
      running ??= applyRetention(ctx.db, ctx.config)
        .then((r) => logger.info(r, 'retention applied'))
        .catch((e: unknown) => logger.error({ err: e }, 'retention run failed'))
        .finally(() => {
          running = null;
        });
    };
    const first = setTimeout(tick, FIRST_RUN_MS);
    const every = setInterval(tick, ctx.config.retentionIntervalMinutes * 60_000);
    first.unref();
    every.unref();
    const c = ctx.config;
    return {
      describe: () =>
        `Retention:        identity ${c.retentionIdentityDays || '∞'} d, raw evidence ${c.retentionRawDays || '∞'} d, \
reports ${c.retentionReportsDays || '∞'} d, audit ${c.retentionAuditDays || '∞'} d; every \
${c.retentionIntervalMinutes} min`,
      async stop() {
        clearTimeout(first);
        clearInterval(every);
        await running;
      },
    };
  },
};
