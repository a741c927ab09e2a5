/**
 * Claims in intake order (`claimJobsInOrder`), on both engines: the order they are due, only jobs due
 * before every waiting or running job of the stage before (one that failed no longer holds them), and
 * one batch in flight at a time, whichever worker asks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestDatabase } from '../db/test-databases.ts';
import { claimJobs, claimJobsInOrder, completeJobs, enqueueJob, failJob } from './jobs.ts';

const at = (s: number) => new Date(Date.parse('2026-01-05T11:00:00.000Z') + s * 1000);

for (const dialect of DIALECTS) {
  test(`[${dialect}] in-order claims wait for the stage before, oldest first, one batch at a time`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    const { db } = tdb;
    try {
      // Reports 1–4 came in at t = 1, 2, 3, 4 s. Report 2 is still being analysed; 1, 3 and 4 are
      // analysed (their placing jobs queued, 4 before 3, and 3 before 1).
      const analysing2 = await enqueueJob(db, 'analyse', { report: 2 }, at(2));
      const place4 = await enqueueJob(db, 'place', { report: 4 }, at(4));
      const place3 = await enqueueJob(db, 'place', { report: 3 }, at(3));
      const place1 = await enqueueJob(db, 'place', { report: 1 }, at(1));

      const first = await claimJobsInOrder(db, 'w1', 'place', 'analyse', 10);
      assert.deepEqual(
        first.map((j) => j.id),
        [place1],
        'only report 1: 3 and 4 wait until report 2 is through the stage before',
      );
      assert.equal(first[0].state, 'running');
      assert.deepEqual(await claimJobsInOrder(db, 'w2', 'place', 'analyse', 10), [], 'w1 holds a batch in flight');
      await completeJobs(db, [place1]);

      // Report 2's analysis is taken by the stage before and finishes; its placing job comes last.
      const [a2] = await claimJobs(db, 'analyser', ['analyse'], 1);
      assert.equal(a2.id, analysing2);
      assert.deepEqual(await claimJobsInOrder(db, 'w2', 'place', 'analyse', 10), [], 'a running analysis holds too');
      await completeJobs(db, [analysing2]);
      const place2 = await enqueueJob(db, 'place', { report: 2 }, at(2));
      const next = await claimJobsInOrder(db, 'w2', 'place', 'analyse', 2);
      assert.deepEqual(
        next.map((j) => j.id),
        [place2, place3],
        'the oldest due first, at most the limit',
      );
      await completeJobs(
        db,
        next.map((j) => j.id),
      );

      // A job of the stage before that has failed once no longer holds the stream back.
      const analysing5 = await enqueueJob(db, 'analyse', { report: 5 }, at(5));
      const place6 = await enqueueJob(db, 'place', { report: 6 }, at(6));
      const [a5] = await claimJobs(db, 'analyser', ['analyse'], 1);
      assert.equal(a5.id, analysing5);
      assert.equal(await failJob(db, a5, 'boom'), 'retry');
      const last = await claimJobsInOrder(db, 'w1', 'place', 'analyse', 10);
      assert.deepEqual(
        last.map((j) => j.id),
        [place4, place6],
      );
    } finally {
      await tdb.drop();
    }
  });
}
