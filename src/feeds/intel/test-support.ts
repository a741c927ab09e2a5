/**
 * Test support of the intel feeds: reports stored through the real writer and carried through the
 * real pipeline (analysis in its worker threads, classification and clustering, actions facts),
 * so what the feeds publish is what they would publish in production.
 */
import type { TestContext } from 'node:test';
import { createTestContext, type TestAppContext } from '../../app/test-context.ts';
import { jobHandlers } from '../../app/pipeline.ts';
import { runIsolated } from '../../workers/runner.ts';
import { claimJobs, completeJob, failJob } from '../../workers/jobs.ts';
import type { DialectName } from '../../db/dialect.ts';
import type { StoredReport } from '../../evidence/report-input.ts';

export { phish, type PhishOptions } from './test-messages.ts';

export interface IntelHarness extends TestAppContext {
  /** Stores reports and runs every job they cause. */
  report(messages: { raw: Buffer; reporter?: string; historical?: boolean }[]): Promise<StoredReport[]>;
}

export async function intelHarness(t: TestContext, dialect: DialectName): Promise<IntelHarness | null> {
  const h = await createTestContext(t, dialect, { dnsMode: 'offline', intelBuildIntervalMs: 0 });
  if (!h) return null;
  const handlers = jobHandlers();
  /** Runs every queued job (and those they enqueue) to the end, in this process. */
  const drain = async (): Promise<void> => {
    for (;;) {
      let n = 0;
      for (const handler of handlers) {
        const jobs = await claimJobs(h.ctx.db, 'intel-test', [handler.kind], handler.batchSize ?? 50);
        n += jobs.length;
        if (jobs.length === 0) continue;
        const errors = await runIsolated(handler, jobs, h.ctx);
        for (const j of jobs) {
          const err = errors.get(j.id);
          if (err) await failJob(h.ctx.db, j, err.message);
          else await completeJob(h.ctx.db, j.id);
        }
      }
      if (n === 0) return;
    }
  };
  return {
    ...h,
    async report(messages) {
      const stored = await h.ctx.writer.submit(
        messages.map((m) => ({
          raw: m.raw,
          channel: 'api' as const,
          reporterAddress: m.reporter ?? null,
          historical: m.historical ?? false,
        })),
      );
      await drain();
      return stored;
    },
    async close() {
      for (const handler of handlers) await handler.close?.();
      await h.close();
    },
  };
}
