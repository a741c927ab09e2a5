/**
 * The whole pipeline run by two platforms' workers on one PostgreSQL at once (two contexts, two
 * connection pools, two worker runners, two indexers: what two processes share): every report is
 * processed exactly once — one analysis per message, one campaign membership, one actions pass,
 * counted once in the statistics — and no job fails (no deadlock).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestContext, sampleEmail } from './test-context.ts';
import { closeContext, createContext } from './context.ts';
import { jobHandlers } from './pipeline.ts';
import { startWorkers } from '../workers/runner.ts';
import { openDatabase } from '../db/dialect.ts';
import { indexAll } from '../web/indexer.ts';
import { dailySeries, rangeOf } from '../web/queries.ts';

test('postgres: two worker runners on two pools process a stream once each, with no failed job', async (t) => {
  const h = await createTestContext(t, 'postgres', { workers: 1, dnsMode: 'offline' });
  if (!h) return;
  t.after(() => h.close());
  const other = await createContext(h.tdb.config, { db: openDatabase(h.tdb.config.database), migrate: false });
  t.after(() => closeContext(other));
  const N = 24;
  // Three families of near-copies, so clustering has real decisions to serialise; each message
  // reported twice (a second reporter), so two processes may hold the same message at once.
  const raws = Array.from({ length: N }, (_, i) =>
    sampleEmail(i, {
      subject: `Family ${i % 3} notice`,
      body: `Family ${i % 3}: claim your prize at http://f${i % 3}.example/x today.`,
    }),
  );
  const stored = await h.ctx.writer.submit([...raws, ...raws].map((raw) => ({ raw, channel: 'api' as const })));
  const reports = new Set(stored.map((s) => s.id));
  assert.equal(reports.size, 2 * N, 'each copy is its own report');

  const a = startWorkers(h.ctx, jobHandlers());
  const b = startWorkers(other, jobHandlers());
  try {
    const deadline = Date.now() + 240_000;
    for (;;) {
      const left = await h.ctx.db
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('state', 'in', ['queued', 'running'])
        .where('kind', 'in', ['analyse-report', 'campaign-report', 'actions-report'])
        .executeTakeFirstOrThrow();
      if (Number(left.n) === 0) break;
      assert.ok(Date.now() < deadline, `${left.n} jobs still waiting`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await a.stop();
    await b.stop();
  }
  const failed = await h.ctx.db
    .selectFrom('jobs')
    .select(['kind', 'last_error'])
    .where('last_error', 'is not', null)
    .execute();
  assert.deepEqual(failed, [], 'no job failed, not even once (a deadlock would show here)');
  // Completed jobs are deleted: a job that failed once and then passed shows only in the counter.
  for (const c of [h.ctx, other]) {
    const jobErrors = (await c.metrics.errors.get()).values.filter((v) => String(v.labels.kind).startsWith('job_'));
    assert.deepEqual(jobErrors, [], 'no job attempt failed');
  }
  const dead = await h.ctx.db.selectFrom('dead_letters').select('reason').execute();
  assert.deepEqual(dead, []);

  const count = async (table: 'analyses' | 'campaign_messages' | 'action_report_facts', col: string) =>
    (
      await h.ctx.db
        .selectFrom(table)
        .select(col as never)
        .execute()
    ).map((r) => String(Object.values(r)[0]));
  const analysed = await count('analyses', 'message_sha256');
  assert.equal(analysed.length, N, 'one analysis per message');
  assert.equal(new Set(analysed).size, N);
  const members = await count('campaign_messages', 'sha256');
  assert.equal(members.length, N, 'one campaign membership per message');
  assert.equal(new Set(members).size, N);
  const passes = await count('action_report_facts', 'report_id');
  assert.equal(passes.length, 2 * N, 'one actions pass per report');
  assert.deepEqual(new Set(passes), reports);

  // Both indexers at once, then the statistics: every report counted once.
  await Promise.all([indexAll(h.ctx.db), indexAll(other.db)]);
  let total = 0;
  for (const p of await dailySeries(h.ctx.db, 'channel', rangeOf('2000-01-01', '2100-01-01'))) total += p.n;
  assert.equal(total, 2 * N, 'counted once in the statistics');
});
