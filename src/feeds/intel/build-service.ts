/**
 * The intel build service of `spamdesk serve`: rebuilds the collections every
 * `SPAMDESK_INTEL_BUILD_INTERVAL_MS`, one build at a time, in the one process that holds its
 * singleton lock (role `scheduler`). Were two to build, each collection's write is serialised by its
 * state row and writes nothing when nothing changed.
 */
import type { ServiceFactory } from '../../evidence/context.ts';
import { buildIntel, sourceSignature } from './build.ts';

/**
 * A full rebuild at least this often even when the signature did not move: it catches what the
 * signature cannot see (a re-clustering, a policy file changed under a running process).
 */
export const FULL_REBUILD_MS = 10 * 60_000;

/** Name of the intel build's singleton lock: one process at a time builds (see `docs/operations.md`). */
export const INTEL_BUILD_SINGLETON = 'intel-build';

export const intelBuildService: ServiceFactory = {
  name: 'intel-build',
  role: 'scheduler',
  enabled: (ctx) => ctx.config.intelBuildIntervalMs > 0,
  async start(ctx) {
    const logger = ctx.logger.child({ component: 'intel' });
    await ctx.singletons.want(INTEL_BUILD_SINGLETON);
    let running: Promise<void> | null = null;
    let stopped = false;
    let lastSignature: string | null = null;
    let lastBuild = 0;
    const build = async () => {
      const signature = await sourceSignature(ctx.db);
      if (signature === lastSignature && Date.now() - lastBuild < FULL_REBUILD_MS) return null;
      const s = await buildIntel(ctx.db, ctx.config);
      lastSignature = signature;
      lastBuild = Date.now();
      return s;
    };
    const tick = (): void => {
      if (stopped || !ctx.singletons.held(INTEL_BUILD_SINGLETON)) return;
      running ??= build()
        .then((s) => {
          if (!s) return;
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
