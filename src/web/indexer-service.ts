/**
 * Keeps the workbench index and roll-ups current in a process that runs the `indexer` role: a pass
 * every `webIndexIntervalMs`, and one soon after reports are committed. Passes never overlap, and
 * only one process at a time runs them (the `web-indexer` singleton): two indexers would only do
 * the same work twice. (Each report's index row and roll-up deltas are written under a lock of that
 * row, so an index pass and a route re-indexing a relabelled report never count twice either.)
 */
import type { AppContext } from '../evidence/context.ts';
import type { RunningService, ServiceFactory } from '../evidence/context.ts';
import { indexPass } from './indexer.ts';
import { followCampaignMerges } from './campaign-merges.ts';

/** Delay after a commit before indexing, so a burst of reports is indexed in one pass. */
const AFTER_COMMIT_MS = 200;
/** Name of the indexer's singleton lock. */
export const INDEXER_SINGLETON = 'web-indexer';

export const webIndexerService: ServiceFactory = {
  name: 'web-indexer',
  role: 'indexer',
  enabled: (ctx) => ctx.config.workers > 0,
  async start(ctx: AppContext): Promise<RunningService> {
    let running: Promise<void> | null = null;
    let again = false;
    let stopped = false;
    await ctx.singletons.want(INDEXER_SINGLETON);
    const run = (): void => {
      if (stopped || !ctx.singletons.held(INDEXER_SINGLETON)) return;
      if (running) {
        again = true;
        return;
      }
      running = (async () => {
        try {
          // Catch up fully, a bounded batch at a time.
          for (let i = 0; i < 100 && !stopped; i++) if ((await indexPass(ctx.db)) === 0) break;
          // Campaigns merged since take their reports' index rows and roll-ups along (campaign-merges.ts).
          if (!stopped) await followCampaignMerges(ctx.db);
        } catch (err) {
          ctx.logger.warn({ err }, 'web index pass failed; retrying on the next tick');
        }
      })().finally(() => {
        running = null;
        if (again) {
          again = false;
          run();
        }
      });
    };
    // A process waiting for the lock takes over on its next tick after the holder died.
    const timer = setInterval(run, ctx.config.webIndexIntervalMs);
    timer.unref();
    let pending: NodeJS.Timeout | null = null;
    const onReports = (): void => {
      pending ??= setTimeout(() => {
        pending = null;
        run();
      }, AFTER_COMMIT_MS);
    };
    ctx.onReports.add(onReports);
    run();
    return {
      describe: () => `Workbench index:  every ${ctx.config.webIndexIntervalMs} ms`,
      async stop() {
        stopped = true;
        clearInterval(timer);
        if (pending) clearTimeout(pending);
        ctx.onReports.delete(onReports);
        if (running) await running;
      },
    };
  },
};
