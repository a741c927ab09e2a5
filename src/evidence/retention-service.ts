/**
 * The retention service of `spamdesk serve`: applies the retention periods every
 * `SPAMDESK_RETENTION_INTERVAL_MINUTES` (first run a minute after start, so a start-up is never
 * slowed by it). Several processes may run it: every step is idempotent and the audit prune is
 * serialised by the chain's head lock. Listed in `area.ts`.
 */
import type { ServiceFactory } from './context.ts';
import { applyRetention } from './retention.ts';

const FIRST_RUN_MS = 60_000;

export const retentionService: ServiceFactory = {
  name: 'retention',
  enabled: (ctx) => ctx.config.retentionIntervalMinutes > 0,
  async start(ctx) {
    const logger = ctx.logger.child({ component: 'retention' });
    let running: Promise<void> | null = null;
    const tick = (): void => {
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
