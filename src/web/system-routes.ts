/** `/healthz`, `/metrics` (Prometheus text format; with the background child's series when it runs apart). */
import type { FastifyInstance } from 'fastify';
import { jobCounts } from '../workers/jobs.ts';
import { ping } from '../db/dialect.ts';
import { exposition } from '../core/metrics.ts';

export async function systemRoutes(app: FastifyInstance): Promise<void> {
  const { metrics, db } = app.ctx;
  app.get('/healthz', { schema: { hide: true } }, async () => {
    await ping(db);
    return { ok: true };
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    // Counted first, then replaced in one synchronous step: a scrape that overlaps this one (waiting
    // for the background child's metrics) never reads the gauge between its reset and its values.
    const counts = await jobCounts(db);
    metrics.queueDepth.reset();
    for (const c of counts) metrics.queueDepth.set({ kind: c.kind, state: c.state }, c.n);
    return reply.type(metrics.registry.contentType).send(await exposition(metrics));
  });
}
