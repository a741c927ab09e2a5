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
    metrics.queueDepth.reset();
    for (const c of await jobCounts(db)) metrics.queueDepth.set({ kind: c.kind, state: c.state }, c.n);
    return reply.type(metrics.registry.contentType).send(await exposition(metrics));
  });
}
