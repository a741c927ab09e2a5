/**
 * The listing service of `spamdesk serve`: a singleton across every process sharing the database
 * (a lease row, `store.ts`). Its holder runs a listing pass every `feedsListingIntervalSeconds`
 * and, when `feedsZonesDir` is set, rewrites the zone files whose text changed (atomically), so a
 * report's listing reaches the zone within a minute of its analysis. The other processes wait and
 * take over when the lease lapses.
 */
import { Gauge } from 'prom-client';
import type { AppContext, RunningService, ServiceFactory } from '../../evidence/context.ts';
import { newId } from '../../core/ids.ts';
import { publicBaseUrl } from '../../core/config.ts';
import { policyFor } from '../../actions/action-policy.ts';
import { runListingPass, type PassResult } from './pass.ts';
import { releaseLease, takeLease } from './store.ts';
import { renderZones, writeZones } from './zones.ts';

export const LISTINGS_METRIC = 'spamdesk_listings';

/** The lease lasts this many intervals: a holder that stops renewing is replaced after it. */
const LEASE_INTERVALS = 6;
/** Shortest lease, so a short interval does not make the lease flap under load. */
const MIN_LEASE_MS = 60_000;

export interface ListingTick {
  held: boolean;
  pass: PassResult | null;
  written: string[];
}

/** One tick of the service: take the lease, run a pass, write changed zones. */
export async function listingTick(
  ctx: AppContext,
  owner: string,
  leaseMs: number,
  now = new Date(),
  seen?: Map<string, string>,
): Promise<ListingTick> {
  if (!(await takeLease(ctx.db, owner, leaseMs, now))) {
    // Another process judges meanwhile: what this one saw says nothing once it takes over.
    seen?.clear();
    return { held: false, pass: null, written: [] };
  }
  const policy = policyFor(ctx.config);
  const pass = await runListingPass(ctx.db, ctx.config, policy, now, { seen });
  let written: string[] = [];
  const dir = ctx.config.feedsZonesDir;
  if (dir && policy.listing.enabled) {
    written = writeZones(dir, await renderZones(ctx.db, policy, publicBaseUrl(ctx.config)));
  }
  return { held: true, pass, written };
}

export const listingService: ServiceFactory = {
  name: 'feeds-listing',
  role: 'scheduler',
  enabled: (ctx) => ctx.config.feedsListingIntervalSeconds > 0 && policyFor(ctx.config).listing.enabled,
  async start(ctx): Promise<RunningService> {
    const log = ctx.logger.child({ component: 'feeds-listing' });
    // What the lists hold, by list and state (listed, held for review, expired, delisted).
    if (!ctx.metrics.registry.getSingleMetric(LISTINGS_METRIC)) {
      new Gauge({
        name: LISTINGS_METRIC,
        help: 'Blocklist values by list and state (listed, held, expired, delisted).',
        labelNames: ['list', 'state'],
        registers: [ctx.metrics.registry],
        async collect() {
          const rows = await ctx.db
            .selectFrom('feed_listings')
            .select(['list', 'state', (eb) => eb.fn.countAll<number>().as('n')])
            .groupBy(['list', 'state'])
            .execute();
          this.reset();
          for (const r of rows) this.set({ list: r.list, state: r.state }, Number(r.n));
        },
      });
    }
    const owner = `${process.pid}-${newId()}`;
    const intervalMs = ctx.config.feedsListingIntervalSeconds * 1000;
    const leaseMs = Math.max(MIN_LEASE_MS, intervalMs * LEASE_INTERVALS);
    let stopped = false;
    let running: Promise<void> = Promise.resolve();
    let timer: NodeJS.Timeout | null = null;
    // Facts this process judged in the cursor's overlap: re-read each pass, judged once.
    const seen = new Map<string, string>();
    const tick = async () => {
      try {
        const t = await listingTick(ctx, owner, leaseMs, new Date(), seen);
        if (t.pass && (t.pass.changed > 0 || t.pass.expired > 0 || t.written.length > 0))
          log.info({ ...t.pass, written: t.written }, 'listings updated');
      } catch (e) {
        log.error({ err: e }, 'listing pass failed');
      }
    };
    const schedule = () => {
      if (stopped) return;
      timer = setTimeout(() => {
        running = tick().finally(schedule);
      }, intervalMs);
      timer.unref();
    };
    running = tick().finally(schedule);
    return {
      describe: () =>
        `Listings:         every ${ctx.config.feedsListingIntervalSeconds} s${
          ctx.config.feedsZonesDir ? `, rbldnsd zones in ${ctx.config.feedsZonesDir}` : ', no zone directory'
        }`,
      async stop() {
        stopped = true;
        if (timer) clearTimeout(timer);
        await running.catch(() => undefined);
        await releaseLease(ctx.db, owner).catch(() => undefined);
      },
    };
  },
};
