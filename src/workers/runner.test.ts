/**
 * The job runner isolates a poisoned job: a batch that fails as a whole is re-run one job at a
 * time, so only the job that makes the handler throw fails (and is retried, then parked), and the
 * others of its batch are done.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestContext } from '../app/test-context.ts';
import { enqueueJob } from './jobs.ts';
import { runIsolated, startWorkers } from './runner.ts';
import type { JobHandler } from './handlers.ts';

function poisonAwareHandler(seen: string[]): JobHandler {
  return {
    kind: 'test-poison',
    batchSize: 10,
    async run(jobs) {
      // Like a batch stored in one transaction: one bad payload fails the whole batch.
      if (jobs.some((j) => j.payload.includes('poison'))) throw new Error('cannot store a poisoned row');
      for (const j of jobs) seen.push(j.payload);
      return undefined;
    },
  };
}

test('a batch failing because of one job fails only that job; the others are done', async (t) => {
  const h = await createTestContext(t, 'sqlite');
  if (!h) return;
  t.after(() => h.close());
  const seen: string[] = [];
  for (const p of ['a', 'poison', 'b']) await enqueueJob(h.ctx.db, 'test-poison', { p });
  const runner = startWorkers(h.ctx, [poisonAwareHandler(seen)]);
  try {
    await runner.drain();
  } finally {
    await runner.stop();
  }
  assert.deepEqual(seen.sort(), ['{"p":"a"}', '{"p":"b"}']);
  const left = await h.ctx.db.selectFrom('jobs').select(['payload', 'state', 'attempts', 'last_error']).execute();
  assert.equal(left.length, 1, 'the two good jobs are done and gone');
  assert.equal(left[0].payload, '{"p":"poison"}');
  assert.equal(left[0].state, 'queued', 'retried later with backoff');
  assert.match(left[0].last_error ?? '', /cannot store a poisoned row/);
});

test('runIsolated keeps per-job errors a handler returns', async (t) => {
  const h = await createTestContext(t, 'sqlite');
  if (!h) return;
  t.after(() => h.close());
  await enqueueJob(h.ctx.db, 'test-poison', { p: 'x' });
  const jobs = await h.ctx.db.selectFrom('jobs').selectAll().execute();
  const errors = await runIsolated(
    { kind: 'test-poison', run: async (js) => new Map(js.map((j) => [j.id, new Error('bad payload')])) },
    jobs,
    h.ctx,
  );
  assert.equal(errors.get(jobs[0].id)?.message, 'bad payload');
});

test('drain() while the runner is in a round waits for it: a handler is never run twice at once', async (t) => {
  const h = await createTestContext(t, 'sqlite');
  if (!h) return;
  t.after(() => h.close());
  let inside = 0;
  let most = 0;
  let ran = 0;
  const slow: JobHandler = {
    kind: 'test-slow',
    batchSize: 1,
    async run(jobs) {
      inside += 1;
      most = Math.max(most, inside);
      await new Promise((r) => setTimeout(r, 20));
      ran += jobs.length;
      inside -= 1;
      return undefined;
    },
  };
  for (let i = 0; i < 12; i++) await enqueueJob(h.ctx.db, 'test-slow', { i });
  const runner = startWorkers(h.ctx, [slow]);
  try {
    // The loop starts on its own; three drains race it and each other.
    await Promise.all([runner.drain(), runner.drain(), runner.drain()]);
  } finally {
    await runner.stop();
  }
  assert.equal(ran, 12, 'every job ran once');
  assert.equal(most, 1, 'the handler was never re-entered');
  assert.equal((await h.ctx.db.selectFrom('jobs').select('id').execute()).length, 0);
});
