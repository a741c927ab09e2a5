/**
 * The actions services of `spamdesk serve`: the outbox delivery loop (role `outbox`; any number of
 * processes share the outbox through its lease queue), and the ISP-digest scheduler (role
 * `scheduler`, a singleton: one process at a time checks every minute whether digests are due; each
 * operator gets one digest per configured period). Listed in `area.ts`; both disabled by
 * SPAMDESK_OUTBOX_ENABLED=false.
 */
import { Gauge } from 'prom-client';
import type { AppContext } from '../evidence/context.ts';
import type { ServiceFactory } from '../evidence/context.ts';
import { startDeliveryLoop, type DeliveryOptions } from './outbox/delivery.ts';
import { closeTransports } from './outbox/transports.ts';
import { runIspDigests } from './isp/isp-digests.ts';
import { outboxCounts } from './outbox/outbox.ts';

const DIGEST_CHECK_MS = 60_000;

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
  role: 'outbox',
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
    const loop = startDeliveryLoop(opts);
    return {
      describe: () =>
        `Outbox:           ${
          ctx.config.outboxSmtpUrl
            ? `mail via ${ctx.config.outboxSmtpUrl.replace(/\/\/[^@/]*@/, '//***@')}`
            : 'webhooks only (no SPAMDESK_OUTBOX_SMTP_URL)'
        }`,
      async stop() {
        await loop.stop();
        closeTransports();
      },
    };
  },
};

/** Name of the ISP-digest scheduler's singleton lock. */
export const ISP_DIGEST_SINGLETON = 'isp-digests';

export const ispDigestService: ServiceFactory = {
  name: 'isp-digests',
  role: 'scheduler',
  enabled: (ctx) => ctx.config.outboxEnabled,
  async start(ctx) {
    const logger = ctx.logger.child({ component: 'isp-digests' });
    await ctx.singletons.want(ISP_DIGEST_SINGLETON);
    let running: Promise<void> | null = null;
    let last = 0;
    // Checked every second, run at most once a minute: the first run comes as soon as this
    // process holds the lock (at start, or when it takes over from a process that died).
    const tick = (): void => {
      if (running || !ctx.singletons.held(ISP_DIGEST_SINGLETON) || Date.now() - last < DIGEST_CHECK_MS) return;
      last = Date.now();
      running = runIspDigests(ctx.db, ctx.config, logger)
        .then(() => undefined)
        .catch((e: unknown) => logger.error({ err: e }, 'ISP digest run failed'))
        .finally(() => {
          running = null;
        });
    };
    const every = setInterval(tick, 1000);
    every.unref();
    return {
      describe: () => `ISP digests:      checked every ${DIGEST_CHECK_MS / 1000} s by one process at a time`,
      async stop() {
        clearInterval(every);
        await running;
      },
    };
  },
};
