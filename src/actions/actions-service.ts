/**
 * The actions services of `spamdesk serve`: the outbox delivery loop (role `outbox`; any number of
 * processes share the outbox through its lease queue), and the ISP-digest scheduler (role
 * `scheduler`, a singleton: one process at a time checks every minute whether digests are due; each
 * operator gets one digest per configured period; the regulator's monthly report, at most hourly, once
 * per month per authority). Listed in `area.ts`; both disabled by
 * SPAMDESK_OUTBOX_ENABLED=false.
 */
import { Gauge } from 'prom-client';
import type { AppContext } from '../evidence/context.ts';
import type { ServiceFactory } from '../evidence/context.ts';
import { startDeliveryLoop, type DeliveryOptions } from './outbox/delivery.ts';
import { closeTransports } from './outbox/transports.ts';
import { runIspDigests } from './isp/isp-digests.ts';
import { outboxCounts } from './outbox/outbox.ts';
import { sendMonthlyReports } from './monthly-report/send.ts';
import { refreshMonthlyReports } from './monthly-report/snapshots.ts';
import { backfillCaseTallies } from './cases/case-tally-backfill.ts';

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
    let lastMonthly = 0;
    // Checked every second, digests run at most once a minute and the monthly report at most hourly
    // (once per month per authority, kept in action_monthly_report_sends): the first run comes as
    // soon as this process holds the lock (at start, or when it takes over from a process that died).
    const runMonthly = async (): Promise<void> => {
      if (Date.now() - lastMonthly < MONTHLY_CHECK_MS) return;
      lastMonthly = Date.now();
      try {
        await sendMonthlyReports(ctx.db, ctx.config, { logger });
      } catch (e) {
        logger.error({ err: e }, 'monthly report run failed');
      }
    };
    const tick = (): void => {
      if (running || !ctx.singletons.held(ISP_DIGEST_SINGLETON) || Date.now() - last < DIGEST_CHECK_MS) return;
      last = Date.now();
      running = runMonthly()
        .then(() => runIspDigests(ctx.db, ctx.config, logger))
        .then(() => undefined)
        .catch((e: unknown) => logger.error({ err: e }, 'ISP digest run failed'))
        .finally(() => {
          running = null;
        });
    };
    const every = setInterval(tick, 1000);
    every.unref();
    return {
      describe: () =>
        `ISP digests:      checked every ${DIGEST_CHECK_MS / 1000} s by one process at a time; monthly reports hourly`,
      async stop() {
        clearInterval(every);
        await running;
      },
    };
  },
};

/** Name of the monthly-report builder's singleton lock. */
export const MONTHLY_REPORTS_SINGLETON = 'monthly-reports';

/**
 * Keeps the stored monthly reports fresh (monthly-report/snapshots.ts), so the page and its
 * downloads read one row: hourly, by one process at a time, whether or not mail goes out.
 */
export const monthlyReportService: ServiceFactory = {
  name: 'monthly-reports',
  role: 'scheduler',
  enabled: () => true,
  async start(ctx) {
    const logger = ctx.logger.child({ component: 'monthly-reports' });
    await ctx.singletons.want(MONTHLY_REPORTS_SINGLETON);
    let running: Promise<void> | null = null;
    let last = 0;
    const tick = (): void => {
      if (running || !ctx.singletons.held(MONTHLY_REPORTS_SINGLETON) || Date.now() - last < MONTHLY_CHECK_MS) return;
      last = Date.now();
      running = refreshMonthlyReports(ctx.db)
        .then((built) => {
          if (built.length > 0) logger.info({ months: built }, 'monthly reports built');
        })
        .catch((e: unknown) => {
          logger.error({ err: e }, 'monthly report build failed');
          last = Date.now() - MONTHLY_CHECK_MS + 60_000;
        })
        .finally(() => {
          running = null;
        });
    };
    const every = setInterval(tick, 1000);
    every.unref();
    return {
      describe: () => 'Monthly reports:  built hourly by one process at a time; pages read the stored report',
      async stop() {
        clearInterval(every);
        await running;
      },
    };
  },
};

/** Name of the case-tally backfill's singleton lock. */
export const CASE_TALLY_BACKFILL_SINGLETON = 'case-tally-backfill';
/** Steps run per tick (a tick a second while cases are left; each step one bounded transaction). */
const BACKFILL_STEPS_PER_TICK = 4;
/** How often to look again once every case is tallied (retention drops the tallies of cases it touches). */
const BACKFILL_RECHECK_MS = 3_600_000;

/**
 * Tallies the cases that have no tally (opened before migration 0180, or touched by retention) in
 * the background, a few bounded transactions a second, so no case page pays for it.
 */
export const caseTallyBackfillService: ServiceFactory = {
  name: 'case-tally-backfill',
  role: 'scheduler',
  enabled: () => true,
  async start(ctx) {
    const logger = ctx.logger.child({ component: 'case-tally-backfill' });
    await ctx.singletons.want(CASE_TALLY_BACKFILL_SINGLETON);
    const abort = new AbortController();
    let running: Promise<void> | null = null;
    let idleSince = 0;
    let built = 0;
    const tick = (): void => {
      if (running || !ctx.singletons.held(CASE_TALLY_BACKFILL_SINGLETON)) return;
      if (idleSince > 0 && Date.now() - idleSince < BACKFILL_RECHECK_MS) return;
      running = backfillCaseTallies(ctx.db, { maxSteps: BACKFILL_STEPS_PER_TICK, signal: abort.signal })
        .then((r) => {
          built += r.casesBuilt;
          if (r.done) {
            if (built > 0) logger.info({ cases: built }, 'case tallies backfilled');
            built = 0;
            idleSince = Date.now();
          } else idleSince = 0;
        })
        .catch((e: unknown) => {
          logger.error({ err: e }, 'case tally backfill step failed');
          // Tried again a minute later.
          idleSince = Date.now() - BACKFILL_RECHECK_MS + 60_000;
        })
        .finally(() => {
          running = null;
        });
    };
    const every = setInterval(tick, 1000);
    every.unref();
    return {
      describe: () => 'Case tallies:     cases without a tally are tallied in the background by one process',
      async stop() {
        clearInterval(every);
        abort.abort();
        await running;
      },
    };
  },
};
