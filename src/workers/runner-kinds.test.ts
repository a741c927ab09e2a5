/**
 * With `overlap` (PostgreSQL's default; asked for here on both engines) each job kind has its own loop: the stages
 * overlap, a kind stuck in a batch or failing does not hold the others back, what each stage sees is still every job
 * once in the queue's order, and `stop()` returns only once every kind's batch has finished. A runner that ran the
 * kinds one after another would never end the first two tests (a kind waits for another to start); `timeout` turns
 * that hang into a failure and bounds nothing else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestContext } from '../app/test-context.ts';
import { DIALECTS } from '../db/test-databases.ts';
import { enqueueJob } from './jobs.ts';
import { startWorkers } from './runner.ts';
import type { JobHandler } from './handlers.ts';

const HANG_GUARD = { timeout: 60_000 };

/** A promise with its resolve function outside. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

for (const dialect of DIALECTS) {
  test(`${dialect}: two kinds run their batches at the same time`, HANG_GUARD, async (t) => {
    const h = await createTestContext(t, dialect);
    if (!h) return;
    t.after(() => h.close());
    const aIn = signal();
    const bIn = signal();
    // Each returns only once the other has started: possible only if both batches run at once.
    const a: JobHandler = {
      kind: 'test-a',
      async run() {
        aIn.resolve();
        await bIn.promise;
        return undefined;
      },
    };
    const b: JobHandler = {
      kind: 'test-b',
      async run() {
        bIn.resolve();
        await aIn.promise;
        return undefined;
      },
    };
    await enqueueJob(h.ctx.db, 'test-a', {});
    await enqueueJob(h.ctx.db, 'test-b', {});
    const runner = startWorkers(h.ctx, [a, b], { overlap: true });
    try {
      await runner.drain();
    } finally {
      await runner.stop();
    }
    assert.equal((await h.ctx.db.selectFrom('jobs').select('id').execute()).length, 0, 'both done');
  });

  test(
    `${dialect}: a kind stuck in a batch does not hold back the others; each stage sees every job once, in \
order`,
    HANG_GUARD,
    async (t) => {
      const h = await createTestContext(t, dialect);
      if (!h) return;
      t.after(() => h.close());
      const N = 30;
      // Due times in the past, one millisecond apart: the queue's order is the order of `i`.
      const base = Date.now() - 60_000;
      const release = signal();
      const allSecond = signal();
      const first: number[] = [];
      const second: number[] = [];
      const stuck: JobHandler = {
        kind: 'test-stuck',
        async run() {
          await release.promise;
          return undefined;
        },
      };
      const stage1: JobHandler = {
        kind: 'test-stage1',
        batchSize: 7,
        async run(jobs, ctx) {
          await ctx.db.transaction().execute(async (trx) => {
            for (const j of jobs) {
              const { i } = JSON.parse(j.payload) as { i: number };
              first.push(i);
              await enqueueJob(trx, 'test-stage2', { i }, new Date(base + i));
            }
          });
          return undefined;
        },
      };
      const stage2: JobHandler = {
        kind: 'test-stage2',
        batchSize: 4,
        async run(jobs) {
          for (const j of jobs) second.push((JSON.parse(j.payload) as { i: number }).i);
          if (second.length >= N) allSecond.resolve();
          return undefined;
        },
      };
      await enqueueJob(h.ctx.db, 'test-stuck', {}, new Date(base - 1));
      for (let i = 0; i < N; i++) await enqueueJob(h.ctx.db, 'test-stage1', { i }, new Date(base + i));
      const runner = startWorkers(h.ctx, [stuck, stage1, stage2], { overlap: true });
      try {
        // The stuck kind is listed first and its job is the oldest; the two stages finish anyway.
        await allSecond.promise;
        release.resolve();
        await runner.drain();
      } finally {
        release.resolve();
        await runner.stop();
      }
      const inOrder = Array.from({ length: N }, (_, i) => i);
      assert.deepEqual(first, inOrder, 'stage 1: every job once, in the queue order');
      assert.deepEqual(second, inOrder, 'stage 2: every job once, in the order stage 1 handed them on');
      assert.equal((await h.ctx.db.selectFrom('jobs').select('id').execute()).length, 0);
    },
  );

  test(`${dialect}: a kind whose batches fail is retried later while the other kinds go on`, async (t) => {
    const h = await createTestContext(t, dialect);
    if (!h) return;
    t.after(() => h.close());
    let failures = 0;
    const done: number[] = [];
    const failing: JobHandler = {
      kind: 'test-failing',
      async run() {
        failures++;
        throw new Error('cannot store this');
      },
    };
    const fine: JobHandler = {
      kind: 'test-fine',
      batchSize: 3,
      async run(jobs) {
        for (const j of jobs) done.push((JSON.parse(j.payload) as { i: number }).i);
        return undefined;
      },
    };
    await enqueueJob(h.ctx.db, 'test-failing', {});
    for (let i = 0; i < 10; i++) await enqueueJob(h.ctx.db, 'test-fine', { i });
    const runner = startWorkers(h.ctx, [failing, fine], { overlap: true });
    try {
      await runner.drain();
    } finally {
      await runner.stop();
    }
    assert.deepEqual(
      [...done].sort((x, y) => x - y),
      Array.from({ length: 10 }, (_, i) => i),
    );
    assert.equal(failures, 1, 'tried once, then left to its back-off');
    const left = await h.ctx.db.selectFrom('jobs').select(['kind', 'state', 'attempts', 'last_error']).execute();
    assert.equal(left.length, 1);
    assert.equal(left[0].kind, 'test-failing');
    assert.equal(left[0].state, 'queued');
    assert.equal(left[0].attempts, 1);
    assert.match(left[0].last_error ?? '', /cannot store this/);
  });

  test(`${dialect}: stop() returns once the batch of every kind has finished, then closes the handlers`, async (t) => {
    const h = await createTestContext(t, dialect);
    if (!h) return;
    t.after(() => h.close());
    const events: string[] = [];
    const entered = { a: signal(), b: signal() };
    const release = signal();
    const blocking = (kind: 'a' | 'b'): JobHandler => ({
      kind: `test-${kind}`,
      async run() {
        events.push(`start ${kind}`);
        entered[kind].resolve();
        await release.promise;
        events.push(`end ${kind}`);
        return undefined;
      },
      async close() {
        events.push(`close ${kind}`);
      },
    });
    await enqueueJob(h.ctx.db, 'test-a', {});
    await enqueueJob(h.ctx.db, 'test-b', {});
    const runner = startWorkers(h.ctx, [blocking('a'), blocking('b')], { overlap: true });
    await Promise.all([entered.a.promise, entered.b.promise]);
    const stopped = runner.stop().then(() => events.push('stopped'));
    events.push('stop called');
    release.resolve();
    await stopped;
    assert.deepEqual(events.slice(0, 3).sort(), ['start a', 'start b', 'stop called']);
    assert.deepEqual(events.slice(3, 5).sort(), ['end a', 'end b']);
    assert.deepEqual(events.slice(5), ['close a', 'close b', 'stopped']);
    assert.equal(
      (await h.ctx.db.selectFrom('jobs').select('id').execute()).length,
      0,
      'both batches were completed before stop() returned',
    );
  });
}
