import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestDatabase } from '../../db/test-databases.ts';
import { REPO_ROOT } from '../../core/test-env.ts';
import { claimJobs, enqueueJob, failJob, MAX_JOB_ATTEMPTS } from '../../workers/jobs.ts';

const run = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, SPAMDESK_LOG_LEVEL: 'silent' },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

test(
  'spamdesk jobs list shows a dead job with its error and jobs requeue queues it again with fresh ' + 'attempts',
  async (t) => {
    const tdb = await createTestDatabase(t, 'sqlite');
    if (!tdb) return;
    try {
      const db = tdb.db;
      const dead = await enqueueJob(db, 'cli-kind', { n: 1 });
      const other = await enqueueJob(db, 'other-kind', { n: 2 });
      await db
        .updateTable('jobs')
        .set({ attempts: MAX_JOB_ATTEMPTS - 1 })
        .execute();
      for (const j of await claimJobs(db, 'w', ['cli-kind', 'other-kind'], 10))
        assert.equal(await failJob(db, j, `broken ${j.kind}\n  at stack`), 'dead');
      const url = tdb.config.database.dialect === 'sqlite' ? `sqlite:${tdb.config.database.path}` : '';

      const list = await cli(['jobs', 'list', '--kind', 'cli-kind', '--database-url', url]);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /cli-kind\s+dead\s+1/);
      assert.ok(list.stdout.includes(`${dead}  dead  cli-kind  tries ${MAX_JOB_ATTEMPTS}  broken cli-kind`));
      assert.ok(!list.stdout.includes(other), '--kind lists only that kind');

      assert.equal((await cli(['jobs', 'requeue', '--database-url', url])).code, 2, 'nothing named: refused');
      const one = await cli(['jobs', 'requeue', dead, '--database-url', url]);
      assert.equal(one.code, 0, one.stderr);
      assert.match(one.stdout, /queued again: 1/);
      const row = await db.selectFrom('jobs').selectAll().where('id', '=', dead).executeTakeFirstOrThrow();
      assert.equal(row.state, 'queued');
      assert.equal(row.attempts, 0);
      assert.ok(Date.parse(row.run_at) <= Date.now(), 'due now');
      assert.equal(
        (await db.selectFrom('jobs').select('state').where('id', '=', other).executeTakeFirstOrThrow()).state,
        'dead',
        'the other dead job is left',
      );

      const all = await cli(['jobs', 'requeue', '--all-dead', '--database-url', url]);
      assert.equal(all.code, 0, all.stderr);
      assert.match(all.stdout, /queued again: 1/);
      assert.equal(
        (await db.selectFrom('jobs').select('state').where('id', '=', other).executeTakeFirstOrThrow()).state,
        'queued',
      );
      const audit = await db
        .selectFrom('audit_log')
        .select(['action', 'detail'])
        .where('action', '=', 'jobs.requeue')
        .execute();
      assert.equal(audit.length, 2, 'each requeue is audited');
    } finally {
      await tdb.drop();
    }
  },
);
