/**
 * Keeps the workbench index and roll-ups current in a process that runs background work: a pass
 * every `webIndexIntervalMs`, and one soon after reports are committed. Passes never overlap.
 */
import type { AppContext } from '../evidence/context.ts';
import type { RunningService, ServiceFactory } from '../evidence/context.ts';
import { indexPass } from './indexer.ts';
import { followCampaignMerges } from './campaign-merges.ts';

/** Delay after a commit before indexing, so a burst of reports is indexed in one pass. */
const AFTER_COMMIT_MS = 200;

export const webIndexerService: ServiceFactory = {
  name: 'web-indexer',
  enabled: (ctx) => ctx.config.workers > 0,
  async start(ctx: AppContext): Promise<RunningService> {
    let running: Promise<void> | null = null;
    let again = false;
    let stopped = false;
    const run = (): void => {
      if (stopped) return;
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
