/**
 * The actions service of `spamdesk serve`: the outbox delivery loop, and the schedulers that run
 * when the loop is idle: ISP digests (at most once a minute; each operator gets one digest per
 * configured period) and the monthly report (at most hourly; once per month per authority).
 * Listed in `area.ts`; disabled by SPAMDESK_OUTBOX_ENABLED=false.
 */
import { Gauge } from 'prom-client';
import type { AppContext } from '../evidence/context.ts';
import type { ServiceFactory } from '../evidence/context.ts';
import { startDeliveryLoop, type DeliveryOptions } from './outbox/delivery.ts';
import { closeTransports } from './outbox/transports.ts';
import { runIspDigests } from './isp/isp-digests.ts';
import { outboxCounts } from './outbox/outbox.ts';
import { sendMonthlyReports } from './monthly-report/send.ts';

const DIGEST_CHECK_MS = 60_000;
/** How often the monthly-report scheduler looks for a month due (once per month per authority). */
const MONTHLY_CHECK_MS = 3_600_000;

/** Delivery options from the configuration. */
export function deliveryOptions(ctx: AppContext): DeliveryOptions {
  return {
    db: ctx.db,
    logger: ctx.logger.child({ component: 'outbox' }),
    relayUrl: ctx.config.outboxSmtpUrl,
    retryBaseMs: ctx.config.outboxRetryBaseMs,
    leaseMs: ctx.config.outboxLeaseSeconds * 1000,
  };
}

export const actionsService: ServiceFactory = {
  name: 'actions',
  enabled: (ctx) => ctx.config.outboxEnabled,
  async start(ctx) {
    const opts = deliveryOptions(ctx);
    // Dead letters must be visible: /metrics shows the outbox by state (alert on dead > 0).
    const metric = 'spamdesk_outbox_entries';
    if (!ctx.metrics.registry.getSingleMetric(metric)) {
      new Gauge({
        name: metric,
        help: 'Outbox entries by state (queued, sending, sent, dead).',
        labelNames: ['state'],
        registers: [ctx.metrics.registry],
        async collect() {
          for (const [state, n] of Object.entries(await outboxCounts(ctx.db))) this.set({ state }, n);
        },
      });
    }
    let lastDigestCheck = 0;
    let lastMonthlyCheck = 0;
    const loop = startDeliveryLoop({
      ...opts,
      onIdle: async () => {
        if (Date.now() - lastMonthlyCheck >= MONTHLY_CHECK_MS) {
          lastMonthlyCheck = Date.now();
          try {
            await sendMonthlyReports(ctx.db, ctx.config, { logger: opts.logger });
          } catch (e) {
            opts.logger.error({ err: e }, 'monthly report run failed');
          }
        }
        if (Date.now() - lastDigestCheck < DIGEST_CHECK_MS) return;
        lastDigestCheck = Date.now();
        try {
          await runIspDigests(ctx.db, ctx.config, opts.logger);
        } catch (e) {
          opts.logger.error({ err: e }, 'ISP digest run failed');
        }
      },
    });
    return {
      describe: () =>
        `Outbox:           ${
          ctx.config.outboxSmtpUrl
            ? `mail via ${ctx.config.outboxSmtpUrl.replace(/\/\/[^@/]*@/, '//***@')}`
            : 'webhooks only (no SPAMDESK_OUTBOX_SMTP_URL)'
        }; ISP digests and monthly reports scheduled`,
      async stop() {
        await loop.stop();
        closeTransports();
      },
    };
  },
};
