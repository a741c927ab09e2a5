/**
 * The pipeline map: every job has a handler of its own name, a payload that does not match the
 * job's schema fails that job alone (the area's work never sees it), and `enqueue` refuses a
 * payload its job would refuse.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { DIALECTS } from '../db/test-databases.ts';
import { createTestContext, sampleEmail } from './test-context.ts';
import { FIRST_JOB, PAYLOADS, PIPELINE, enqueue, jobHandler, jobHandlers, type JobName } from './pipeline.ts';
import { claimJobs } from '../workers/jobs.ts';

test('every job has one handler, named after it, in the order of the flow; next jobs are jobs', () => {
  const names = Object.keys(PAYLOADS);
  assert.deepEqual(Object.keys(PIPELINE), names);
  assert.deepEqual(
    jobHandlers().map((h) => h.kind),
    names,
  );
  assert.equal(FIRST_JOB, names[0]);
  for (const [name, step] of Object.entries(PIPELINE)) {
    for (const n of step.next) assert.ok(n in PAYLOADS, `${name} hands on to ${n}, which is not a job`);
  }
});

for (const dialect of DIALECTS) {
  describe(`pipeline jobs on ${dialect}`, () => {
    test('a job whose payload does not match its schema fails alone; a good one is handed on', async (t) => {
      const h = await createTestContext(t, dialect);
      if (!h) return;
      try {
        const [stored] = await h.ctx.writer.submit([{ raw: sampleEmail('pipeline'), channel: 'api' }]);
        const first = await h.ctx.db.selectFrom('jobs').selectAll().execute();
        assert.deepEqual(
          first.map((j) => [j.kind, JSON.parse(j.payload)]),
          [[FIRST_JOB, { reportId: stored.id, sha256: stored.sha256 }]],
          'the writer enqueues the first job',
        );
        await h.ctx.db.deleteFrom('jobs').execute();
        const name: JobName = 'campaign-report';
        await assert.rejects(
          enqueue(h.ctx.db, name, { reportId: stored.id, sha256: 'not-a-sha' }),
          z.ZodError,
          'enqueue refuses a payload the job would refuse',
        );
        await assert.rejects(enqueue(h.ctx.db, 'actions-refer', { caseId: '' }), z.ZodError);
        assert.equal((await h.ctx.db.selectFrom('jobs').select('id').execute()).length, 0, 'nothing was enqueued');
        await enqueue(h.ctx.db, name, { reportId: stored.id, sha256: stored.sha256 });
        // Written by hand: a payload enqueue would have refused.
        await h.ctx.db
          .insertInto('jobs')
          .values({
            id: 'bad-job',
            kind: name,
            payload: '{"reportId":"x"}',
            state: 'queued',
            run_at: new Date(0).toISOString(),
            attempts: 0,
            locked_by: null,
            locked_at: null,
            last_error: null,
            created_at: new Date().toISOString(),
            updated_at: new Date().toISOString(),
          })
          .execute();
        const jobs = await claimJobs(h.ctx.db, 'test', [name], 10);
        assert.equal(jobs.length, 2);
        const errors = await jobHandler(name).run(jobs, h.ctx);
        assert.deepEqual([...(errors ?? new Map()).keys()], ['bad-job']);
        assert.match(errors?.get('bad-job')?.message ?? '', /bad campaign-report payload: sha256/);
        const next = await h.ctx.db
          .selectFrom('jobs')
          .select(['kind', 'payload'])
          .where('state', '=', 'queued')
          .execute();
        assert.deepEqual(
          next.map((j) => j.kind),
          PIPELINE[name].next,
          'the good job is handed on to the next step',
        );
      } finally {
        await h.close();
      }
    });
  });
}
