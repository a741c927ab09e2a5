import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestDatabase } from '../db/test-databases.ts';
import type { DB } from '../db/dialect.ts';
import type { Job } from '../db/tables.ts';
import { backoffDelayMs, createLeaseQueue, MAX_IDS_PER_STATEMENT } from './lease-queue.ts';
import { enqueueJob } from './jobs.ts';

/**
 * A queue over the jobs table that keeps finished rows (state `done`, time in `run_at`), as the outbox keeps `sent`.
 */
const KEEPING = createLeaseQueue<Job>({
  table: 'jobs',
  dueColumn: 'run_at',
  leasedState: 'running',
  filterColumn: 'kind',
  done: { kind: 'state', state: 'done', atColumn: 'run_at' },
  maxErrorChars: 10,
  backoff: { baseMs: 1000, maxMs: 5000 },
});

async function row(db: DB, id: string): Promise<Job | undefined> {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

test('back-off doubles from the base and stops at the cap', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((a) => backoffDelayMs(a, 1000, 5000)),
    [1000, 2000, 4000, 5000, 5000],
  );
  assert.equal(backoffDelayMs(0, 1000, 5000), 1000, 'no attempt yet waits the base');
});

for (const dialect of DIALECTS) {
  test(`[${dialect}] lease queue: claim, renew, complete, fail with back-off, dead after N or at once, requeue stale \
and dead`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    const { db } = tdb;
    try {
      const a = await enqueueJob(db, 'k1', {});
      const b = await enqueueJob(db, 'k1', {});
      const other = await enqueueJob(db, 'k2', {});
      const later = await enqueueJob(db, 'k1', {}, new Date(Date.now() + 3_600_000));

      // Claim: due rows of the asked kinds only, each to one worker, attempts counted.
      assert.deepEqual(await KEEPING.claim(db, 'w1', 10, []), [], 'an empty filter claims nothing');
      const [first] = await KEEPING.claim(db, 'w1', 1, ['k1']);
      assert.equal(first.id, a);
      assert.equal(first.state, 'running');
      assert.equal(first.attempts, 1);
      assert.equal(first.locked_by, 'w1');
      const rest = await KEEPING.claim(db, 'w2', 10, ['k1']);
      assert.deepEqual(
        rest.map((r) => r.id),
        [b],
        'a leased or future row is not claimed',
      );

      // Renew: only the holder extends its lease.
      await db
        .updateTable('jobs')
        .set({ locked_at: new Date(0).toISOString() })
        .where('id', 'in', [a, b])
        .execute();
      assert.equal(await KEEPING.renew(db, 'w1', [a, b]), 1, 'w1 holds a, not b');
      assert.equal(
        await KEEPING.requeueStale(db, 60_000),
        1,
        'the renewed lease is kept, the stale one is queued again',
      );
      assert.equal((await row(db, b))?.state, 'queued');
      assert.equal((await row(db, a))?.state, 'running');

      // Complete: the final state, its time stamped, the lease and error cleared.
      await KEEPING.complete(db, a);
      const done = await row(db, a);
      assert.equal(done?.state, 'done');
      assert.equal(done?.locked_by, null);
      assert.ok(Date.parse(done?.run_at ?? '') > Date.now() - 60_000, 'the completion time is stamped');
      assert.deepEqual(await KEEPING.claim(db, 'w1', 10, ['k1']).then((r) => r.map((x) => x.id)), [b]);

      // Fail: retried after the back-off with the error cut to its limit; the last attempt is dead.
      const before = Date.now();
      assert.equal(
        await KEEPING.fail(db, { id: b, attempts: 2 }, 'a long error message', { maxAttempts: 3 }),
        'queued',
      );
      const retried = await row(db, b);
      assert.equal(retried?.state, 'queued');
      assert.equal(retried?.last_error, 'a long err');
      assert.equal(retried?.locked_by, null);
      assert.ok(Date.parse(retried?.run_at ?? '') >= before + 2000, 'the second attempt waits base · 2');
      assert.equal(await KEEPING.fail(db, { id: b, attempts: 3 }, 'again', { maxAttempts: 3 }), 'dead');
      assert.equal((await row(db, b))?.state, 'dead');
      assert.equal(
        await KEEPING.fail(db, { id: other, attempts: 1 }, '404', { maxAttempts: 3, permanent: true }),
        'dead',
        'a permanent failure is dead at once',
      );

      // Requeue by hand: dead rows only, by id or by filter, due now with fresh attempts.
      await db
        .updateTable('jobs')
        .set({ run_at: new Date(0).toISOString() })
        .where('id', '=', b)
        .execute();
      assert.deepEqual(await KEEPING.claim(db, 'w1', 10, ['k1']), [], 'a dead row is never claimed');
      assert.equal(await KEEPING.requeue(db, { ids: [a, later] }), 0, 'done and queued rows are not dead');
      assert.equal(await KEEPING.requeue(db, { only: ['k3'] }), 0);
      assert.equal(await KEEPING.requeue(db, { only: ['k2'] }), 1);
      assert.equal(await KEEPING.requeue(db, { ids: [b] }), 1);
      const again = await KEEPING.claim(db, 'w3', 10);
      assert.deepEqual(new Set(again.map((r) => r.id)), new Set([b, other]));
      assert.ok(
        again.every((r) => r.attempts === 1),
        'attempts start again',
      );
      assert.equal(await KEEPING.requeue(db, { ids: [later], states: ['queued'] }), 1, 'other states only when asked');
      assert.equal((await KEEPING.claim(db, 'w3', 10)).length, 1, 'the requeued row is due now');
    } finally {
      await tdb.drop();
    }
  });

  test(`[${dialect}] lease queue: four workers claiming at once never share a row, and a claim takes at most its \
limit`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    try {
      for (let i = 0; i < 40; i++) await enqueueJob(tdb.db, 'race', { i });
      const got = await Promise.all(Array.from({ length: 4 }, (_, w) => KEEPING.claim(tdb.db, `w${w}`, 15, ['race'])));
      const ids = got.flat().map((j) => j.id);
      assert.equal(ids.length, 40);
      assert.equal(new Set(ids).size, 40);
      assert.ok(
        got.every((g) => g.length <= 15),
        `claims of ${got.map((g) => g.length).join(', ')} rows, asked for 15 each`,
      );
      for (let i = 0; i < 5; i++) await enqueueJob(tdb.db, 'few', { i });
      assert.equal((await KEEPING.claim(tdb.db, 'w9', 2, ['few'])).length, 2);
      const left = await tdb.db
        .selectFrom('jobs')
        .select('id')
        .where('kind', '=', 'few')
        .where('state', '=', 'queued')
        .execute();
      assert.equal(left.length, 3, 'the rows beyond the limit stay queued');
    } finally {
      await tdb.drop();
    }
  });
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] completeMany finishes exactly the given rows, past the ids of one statement`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    const { db } = tdb;
    try {
      const DELETING = createLeaseQueue<Job>({ ...KEEPING.spec, done: { kind: 'delete' } });
      const n = MAX_IDS_PER_STATEMENT + 7;
      for (let i = 0; i < n + 2; i++) await enqueueJob(db, 'bulk', { i });
      const claimed = await DELETING.claim(db, 'w1', n + 2, ['bulk']);
      assert.equal(claimed.length, n + 2);
      const [kept, kept2, ...done] = claimed.map((r) => r.id);
      await DELETING.completeMany(db, done);
      await DELETING.completeMany(db, []);
      const left = await db.selectFrom('jobs').select('id').execute();
      assert.deepEqual(left.map((r) => r.id).sort(), [kept, kept2].sort(), 'only the rows not completed are left');
      await KEEPING.completeMany(db, [kept]);
      assert.equal((await row(db, kept))?.state, 'done', 'a keeping queue moves the rows to their final state');
      assert.equal((await row(db, kept2))?.state, 'running');
    } finally {
      await tdb.drop();
    }
  });
}
