/**
 * The job runner isolates a poisoned job: a batch that fails as a whole is re-run one job at a
 * time, so only the job that makes the handler throw fails (and is retried, then parked), and the
 * others of its batch are done.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestContext } from '../app/test-context.ts';
import { DIALECTS } from '../db/test-databases.ts';
import { claimJobs, enqueueJob, requeueStaleJobs } from './jobs.ts';
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
  // Counted per kind and outcome, each batch timed (the whole batch, then each job of it alone).
  const counts = (await h.ctx.metrics.jobs.get()).values.map((v) => `${v.labels.kind} ${v.labels.outcome} ${v.value}`);
  assert.deepEqual(counts.sort(), ['test-poison done 2', 'test-poison failed 1']);
  const batches = (await h.ctx.metrics.jobBatchSeconds.get()).values.find(
    (v) => v.metricName === 'spamdesk_job_batch_seconds_count' && v.labels.kind === 'test-poison',
  );
  assert.equal(batches?.value, 1);
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

for (const dialect of DIALECTS) {
  test(`${dialect}: a job running longer than its lease keeps it (the runner renews it), so no other worker \
takes it`, async (t) => {
    const h = await createTestContext(t, dialect);
    if (!h) return;
    t.after(() => h.close());
    const leaseMs = 1500;
    let staleWhileRunning = -1;
    let heldBy: (string | null)[] = [];
    const long: JobHandler = {
      kind: 'test-long',
      async run() {
        // Past the lease: renewed at 1/3 and 2/3 and 3/3 of it, so its lease is at most 0.5 s old here.
        await new Promise((r) => setTimeout(r, 2 * leaseMs));
        staleWhileRunning = await requeueStaleJobs(h.ctx.db, leaseMs);
        heldBy = (await h.ctx.db.selectFrom('jobs').select('locked_by').execute()).map((r) => r.locked_by);
        return undefined;
      },
    };
    await enqueueJob(h.ctx.db, 'test-long', {});
    const runner = startWorkers(h.ctx, [long], { leaseMs });
    try {
      await runner.drain();
    } finally {
      await runner.stop();
    }
    assert.equal(staleWhileRunning, 0, 'what another worker would requeue while the job runs: nothing');
    assert.equal(heldBy.length, 1);
    assert.ok(heldBy[0], 'still held by the runner that claimed it');
    assert.equal((await h.ctx.db.selectFrom('jobs').select('id').execute()).length, 0, 'done once');
  });

  test(`${dialect}: a job whose worker died is run by another worker once its lease (the setting) has run \
out`, async (t) => {
    const h = await createTestContext(t, dialect);
    if (!h) return;
    t.after(() => h.close());
    const leaseMs = 2000;
    await enqueueJob(h.ctx.db, 'test-orphan', { n: 1 });
    const [claimed] = await claimJobs(h.ctx.db, 'dead-host:1:abcdef', ['test-orphan'], 1);
    assert.ok(claimed, 'claimed by a worker that then dies');
    const ran: string[] = [];
    const handler: JobHandler = {
      kind: 'test-orphan',
      async run(jobs) {
        for (const j of jobs) ran.push(j.id);
        return undefined;
      },
    };
    // A lease younger than the setting is left alone…
    const early = startWorkers(h.ctx, [handler], { leaseMs });
    try {
      await early.drain();
    } finally {
      await early.stop();
    }
    assert.deepEqual(ran, [], 'not taken while its lease runs');
    // …and taken once it has run out (a lease of 2 s, not the 5 minutes that used to be fixed).
    const old = new Date(Date.now() - leaseMs - 1000).toISOString();
    await h.ctx.db.updateTable('jobs').set({ locked_at: old }).where('id', '=', claimed.id).execute();
    const late = startWorkers(h.ctx, [handler], { leaseMs });
    try {
      await late.drain();
    } finally {
      await late.stop();
    }
    assert.deepEqual(ran, [claimed.id], 'run once, by the live worker');
    assert.equal((await h.ctx.db.selectFrom('jobs').select('id').execute()).length, 0);
  });
}
