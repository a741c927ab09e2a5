/**
 * The `partitions` singleton of the scheduler role (PostgreSQL with a partitioned `reports`): at
 * start and every hour, one process creates the monthly partitions missing up to
 * `MONTHS_AHEAD` months ahead (db/partitions.ts). There is no default partition, so a month left
 * without one fails every report stored in it; three months ahead leave a quarter to notice a
 * scheduler that does not run (the log says what it created, an error when it cannot).
 */
import { ensurePartitions, isPartitioned, MONTHS_AHEAD } from '../db/partitions.ts';
import type { ServiceFactory } from './context.ts';

/** Name of the partition keeper's singleton lock. */
export const PARTITIONS_SINGLETON = 'partitions';
const EVERY_MS = 3_600_000;

export const partitionsService: ServiceFactory = {
  name: 'partitions',
  role: 'scheduler',
  enabled: (ctx) => ctx.config.database.dialect === 'postgres',
  async start(ctx) {
    const logger = ctx.logger.child({ component: 'partitions' });
    let running: Promise<void> | null = null;
    const tick = (): void => {
      if (!ctx.singletons.held(PARTITIONS_SINGLETON)) return;
      running ??= ensurePartitions(ctx.db)
        .then((created) => {
          if (created.length > 0) logger.info({ created }, 'report partitions created');
        })
        .catch((e: unknown) => logger.error({ err: e }, 'creating report partitions failed'))
        .finally(() => {
          running = null;
        });
    };
    const partitioned = await isPartitioned(ctx.db);
    if (partitioned) {
      await ctx.singletons.want(PARTITIONS_SINGLETON);
      tick();
    }
    const every = setInterval(tick, EVERY_MS);
    every.unref();
    return {
      describe: () =>
        partitioned
          ? `Partitions:       reports by month, ${MONTHS_AHEAD} months kept ahead; whole months dropped after \
${ctx.config.retentionPartitionMonths || '∞'} months`
          : 'Partitions:       reports is not partitioned',
      async stop() {
        clearInterval(every);
        await running;
      },
    };
  },
};
