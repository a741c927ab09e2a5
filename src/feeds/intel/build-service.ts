/**
 * The intel build service of `spamdesk serve`: rebuilds the collections every
 * `SPAMDESK_INTEL_BUILD_INTERVAL_MS`, one build at a time. Several processes may run it: each
 * collection's write is serialised by its state row and writes nothing when nothing changed.
 */
import type { ServiceFactory } from '../../evidence/context.ts';
import { buildIntel } from './build.ts';

export const intelBuildService: ServiceFactory = {
  name: 'intel-build',
  enabled: (ctx) => ctx.config.intelBuildIntervalMs > 0,
  async start(ctx) {
    const logger = ctx.logger.child({ component: 'intel' });
    let running: Promise<void> | null = null;
    let stopped = false;
    const tick = (): void => {
      if (stopped) return;
      running ??= buildIntel(ctx.db, ctx.config)
        .then((s) => {
          const changed = Object.values(s.collections).some(
            (c) => c.added + c.updated + c.revoked + c.mispChanged + c.mispWithdrawn > 0,
          );
          if (changed) logger.info(s, 'intel collections rebuilt');
          else logger.debug({ ms: s.ms }, 'intel collections unchanged');
        })
        .catch((e: unknown) => logger.error({ err: e }, 'intel build failed'))
        .finally(() => {
          running = null;
        });
    };
    const every = setInterval(tick, ctx.config.intelBuildIntervalMs);
    every.unref();
    setImmediate(tick);
    return {
      describe: () => `Intel feeds:      TAXII 2.1 at /taxii2/, MISP at /feeds/misp/; rebuilt every \
${ctx.config.intelBuildIntervalMs} ms`,
      async stop() {
        stopped = true;
        clearInterval(every);
        await running;
      },
    };
  },
};
