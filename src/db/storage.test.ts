/**
 * The storage suite: the same tests on SQLite and PostgreSQL (real databases, no mocks).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { DIALECTS } from './test-databases.ts';
import { dialectOf } from './dialect.ts';
import { createTestContext, sampleEmail } from '../app/test-context.ts';
import { sha256Hex } from '../core/ids.ts';
import { CODECS, getMessageRaw, verifyEvidence } from '../evidence/store.ts';
import { FIRST_JOB } from '../app/pipeline.ts';
import { MAX_JOB_ATTEMPTS, claimJobs, completeJob, enqueueJob, failJob, requeueStaleJobs } from '../workers/jobs.ts';
import { createToken, findToken, listTokens, revokeToken } from './tokens.ts';
import { AppError } from '../core/errors.ts';

for (const dialect of DIALECTS) {
  describe(`storage on ${dialect}`, () => {
    test('evidence is stored once per SHA-256, compressed, and read back byte-identical', async (t) => {
      const h = await createTestContext(t, dialect);
      if (!h) return;
      try {
        const { db, writer } = h.ctx;
        // Bytes that must survive untouched: CRLF, a bare CR, NUL, 8-bit, trailing spaces.
        const raw = Buffer.concat([
          sampleEmail(1, { body: 'x'.repeat(5000) }),
          Buffer.from([0, 13, 0xff, 0xe9, 32, 32, 10]),
        ]);
        const a = await writer.submitOne({ raw, channel: 'api' });
        const b = await writer.submitOne({ raw, channel: 'web' });
        assert.notEqual(a.id, b.id);
        assert.equal(a.sha256, sha256Hex(raw));
        assert.equal(b.sha256, a.sha256);
        const rows = await db.selectFrom('messages').select(['sha256', 'size', 'codec', 'content']).execute();
        assert.equal(rows.length, 1);
        assert.equal(rows[0].codec, CODECS.DEFLATE_RAW);
        assert.ok(rows[0].content.length < raw.length / 2, `stored ${rows[0].content.length} of ${raw.length} bytes`);
        assert.equal(Number(rows[0].size), raw.length);
        const back = await getMessageRaw(db, a.sha256);
        assert.ok(back?.equals(raw));
        // Incompressible bytes are kept as they are.
        const noise = Buffer.concat([Buffer.from('Subject: noise\r\nFrom: a@b.example\r\n\r\n'), randomBytes(3000)]);
        const n = await writer.submitOne({ raw: noise, channel: 'api' });
        const row = await db
          .selectFrom('messages')
          .select('codec')
          .where('sha256', '=', n.sha256)
          .executeTakeFirstOrThrow();
        assert.equal(row.codec, CODECS.IDENTITY);
        assert.ok((await getMessageRaw(db, n.sha256))?.equals(noise));
        assert.equal(await getMessageRaw(db, '0'.repeat(64)), null);
      } finally {
        await h.close();
      }
    });

    test('a report, its evidence and its analysis job commit together', async (t) => {
      const h = await createTestContext(t, dialect);
      if (!h) return;
      try {
        const { db, writer } = h.ctx;
        const r = await writer.submitOne({ raw: sampleEmail(2), channel: 'api', note: 'hi' });
        const report = await db.selectFrom('reports').selectAll().where('id', '=', r.id).executeTakeFirstOrThrow();
        assert.equal(report.message_sha256, r.sha256);
        assert.equal(report.note, 'hi');
        assert.equal(report.tracking_token, r.trackingToken);
        const jobs = await db.selectFrom('jobs').selectAll().execute();
        assert.equal(jobs.length, 1);
        assert.equal(jobs[0].kind, FIRST_JOB);
        assert.deepEqual(JSON.parse(jobs[0].payload), { reportId: r.id, sha256: r.sha256 });
      } finally {
        await h.close();
      }
    });

    test('a failing unit stores nothing, and does not sink the units committed with it', async (t) => {
      const h = await createTestContext(t, dialect);
      if (!h) return;
      try {
        const { db, writer } = h.ctx;
        // Submitted in the same event-loop turn, so both units share one group commit.
        const bad = writer.submit([
          { raw: sampleEmail('bad-1'), channel: 'api' },
          // A token id that does not exist violates the foreign key: the whole unit must fail.
          { raw: sampleEmail('bad-2'), channel: 'api', reporterTokenId: 'no-such-token' },
        ]);
        const good = writer.submit([{ raw: sampleEmail('good'), channel: 'api' }]);
        await assert.rejects(bad);
        const [g] = await good;
        const messages = await db.selectFrom('messages').select('sha256').execute();
        assert.deepEqual(
          messages.map((m) => m.sha256),
          [g.sha256],
        );
        assert.equal((await db.selectFrom('reports').select('id').execute()).length, 1);
        assert.equal((await db.selectFrom('jobs').select('id').execute()).length, 1);
      } finally {
        await h.close();
      }
    });

    test('the same message reported by two reporters is one evidence row and two reports', async (t) => {
      const h = await createTestContext(t, dialect);
      if (!h) return;
      try {
        const { db, writer } = h.ctx;
        const alice = await createToken(db, { role: 'reporter', name: 'alice' });
        const bob = await createToken(db, { role: 'reporter', name: 'bob' });
        const raw = sampleEmail('shared');
        const [a, b] = await Promise.all([
          writer.submitOne({ raw, channel: 'api', reporterTokenId: alice.id }),
          writer.submitOne({ raw, channel: 'smtp', reporterTokenId: bob.id }),
        ]);
        assert.equal(a.sha256, b.sha256);
        assert.equal((await db.selectFrom('messages').select('sha256').execute()).length, 1);
        const reports = await db
          .selectFrom('reports')
          .select(['reporter_token_id', 'message_sha256'])
          .orderBy('id')
          .execute();
        assert.deepEqual(
          reports.map((r) => r.reporter_token_id),
          [alice.id, bob.id],
        );
      } finally {
        await h.close();
      }
    });

    test('a dedup key is stored once, also within one batch and across batches', async (t) => {
      const h = await createTestContext(t, dialect);
      if (!h) return;
      try {
        const { db, writer } = h.ctx;
        const first = writer.submitOne({ raw: sampleEmail(3), channel: 'import', dedupKey: (sha) => `import:${sha}` });
        const sameBatch = writer.submitOne({
          raw: sampleEmail(3),
          channel: 'import',
          dedupKey: (sha) => `import:${sha}`,
        });
        const [x, y] = await Promise.all([first, sameBatch]);
        const later = await writer.submitOne({
          raw: sampleEmail(3),
          channel: 'import',
          dedupKey: (sha) => `import:${sha}`,
        });
        assert.equal(x.duplicate, false);
        assert.equal(y.duplicate, true);
        assert.equal(later.duplicate, true);
        assert.equal(y.id, x.id);
        assert.equal(later.id, x.id);
        assert.equal(later.trackingToken, x.trackingToken);
        assert.equal((await db.selectFrom('reports').select('id').execute()).length, 1);
        assert.equal((await db.selectFrom('jobs').select('id').execute()).length, 1);
        // An idempotency key reused for a different message is a conflict, not a silent answer.
        await writer.submitOne({
          raw: sampleEmail(4),
          channel: 'api',
          dedupKey: 'idem:k1',
          dedupRequiresSameMessage: true,
        });
        await assert.rejects(
          writer.submitOne({
            raw: sampleEmail(5),
            channel: 'api',
            dedupKey: 'idem:k1',
            dedupRequiresSameMessage: true,
          }),
          (e: unknown) => e instanceof AppError && e.code === 'CONFLICT',
        );
        assert.equal((await db.selectFrom('reports').select('id').execute()).length, 2);
      } finally {
        await h.close();
      }
    });

    test('a large batch of distinct reports commits in few transactions', async (t) => {
      const h = await createTestContext(t, dialect);
      if (!h) return;
      try {
        const { db, writer } = h.ctx;
        const n = 1500;
        const stored = await Promise.all(
          Array.from({ length: n }, (_, i) => writer.submitOne({ raw: sampleEmail(`bulk-${i}`), channel: 'import' })),
        );
        assert.equal(new Set(stored.map((s) => s.id)).size, n);
        assert.ok(writer.stats.commits <= 3, `${writer.stats.commits} commits for ${n} reports`);
        const c = await db
          .selectFrom('reports')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        assert.equal(Number(c.n), n);
      } finally {
        await h.close();
      }
    });

    test('jobs: claim, complete, fail with backoff, dead after the last attempt, requeue abandoned', async (t) => {
      const h = await createTestContext(t, dialect);
      if (!h) return;
      try {
        const { db } = h.ctx;
        const a = await enqueueJob(db, 'test-kind', { n: 1 });
        await enqueueJob(db, 'test-kind', { n: 2 }, new Date(Date.now() + 3_600_000));
        await enqueueJob(db, 'other-kind', { n: 3 });
        const claimed = await claimJobs(db, 'w1', ['test-kind'], 10);
        assert.deepEqual(
          claimed.map((j) => j.id),
          [a],
        );
        assert.equal(claimed[0].state, 'running');
        assert.equal(claimed[0].attempts, 1);
        assert.equal(claimed[0].locked_by, 'w1');
        assert.deepEqual(
          await claimJobs(db, 'w2', ['test-kind'], 10),
          [],
          'a running or future job is not claimed again',
        );

        const before = Date.now();
        assert.equal(await failJob(db, claimed[0], 'boom'), 'retry');
        const failed = await db.selectFrom('jobs').selectAll().where('id', '=', a).executeTakeFirstOrThrow();
        assert.equal(failed.state, 'queued');
        assert.equal(failed.last_error, 'boom');
        assert.ok(Date.parse(failed.run_at) >= before + 2000, 'second attempt waits 2 s (exponential backoff)');

        // Exhaust the attempts: the job is parked as dead, never claimed again.
        await db
          .updateTable('jobs')
          .set({ attempts: MAX_JOB_ATTEMPTS - 1, run_at: new Date(0).toISOString() })
          .where('id', '=', a)
          .execute();
        const [last] = await claimJobs(db, 'w1', ['test-kind'], 10);
        assert.equal(last.attempts, MAX_JOB_ATTEMPTS);
        assert.equal(await failJob(db, last, 'still broken'), 'dead');
        assert.equal(
          (await db.selectFrom('jobs').select('state').where('id', '=', a).executeTakeFirstOrThrow()).state,
          'dead',
        );
        await db
          .updateTable('jobs')
          .set({ run_at: new Date(0).toISOString() })
          .where('id', '=', a)
          .execute();
        assert.deepEqual(await claimJobs(db, 'w1', ['test-kind'], 10), []);

        // A worker that died holding a job: its lease expires and the job is queued again.
        const [other] = await claimJobs(db, 'w3', ['other-kind'], 10);
        assert.equal(await requeueStaleJobs(db, 60_000), 0, 'a fresh lease is kept');
        await db
          .updateTable('jobs')
          .set({ locked_at: new Date(Date.now() - 120_000).toISOString() })
          .where('id', '=', other.id)
          .execute();
        assert.equal(await requeueStaleJobs(db, 60_000), 1);
        const [again] = await claimJobs(db, 'w4', ['other-kind'], 10);
        assert.equal(again.id, other.id);
        assert.equal(again.attempts, 2);
        await completeJob(db, again.id);
        assert.equal(await db.selectFrom('jobs').select('id').where('id', '=', again.id).executeTakeFirst(), undefined);
      } finally {
        await h.close();
      }
    });

    test('concurrent claimers never get the same job', async (t) => {
      const h = await createTestContext(t, dialect);
      if (!h) return;
      try {
        const { db } = h.ctx;
        for (let i = 0; i < 40; i++) await enqueueJob(db, 'race', { i });
        const got = await Promise.all(Array.from({ length: 4 }, (_, w) => claimJobs(db, `w${w}`, ['race'], 15)));
        const ids = got.flat().map((j) => j.id);
        assert.equal(ids.length, 40);
        assert.equal(new Set(ids).size, 40);
      } finally {
        await h.close();
      }
    });

    test('tokens: only the hash is stored, the secret finds the token, revoked tokens do not', async (t) => {
      const h = await createTestContext(t, dialect);
      if (!h) return;
      try {
        const { db } = h.ctx;
        const tok = await createToken(db, { role: 'analyst', name: 'desk' });
        assert.match(tok.secret, /^sdk_[A-Za-z0-9_-]{43}$/);
        const row = await db.selectFrom('api_tokens').selectAll().where('id', '=', tok.id).executeTakeFirstOrThrow();
        assert.equal(row.token_hash, sha256Hex(tok.secret));
        assert.ok(
          !Object.values(row).some((v) => typeof v === 'string' && v.includes(tok.secret.slice(4))),
          'the secret is stored nowhere',
        );
        assert.equal((await findToken(db, tok.secret))?.id, tok.id);
        assert.equal(await findToken(db, `${tok.secret}x`), null);
        assert.equal(await findToken(db, 'not-a-token'), null);
        assert.equal(await revokeToken(db, tok.id), true);
        assert.equal(await revokeToken(db, tok.id), false, 'revoking twice reports nothing to revoke');
        assert.equal(await findToken(db, tok.secret), null);
        const listed = await listTokens(db);
        assert.equal(listed.length, 1);
        assert.ok(!('token_hash' in listed[0]));
      } finally {
        await h.close();
      }
    });

    test('verify re-hashes every message and reports a tampered row', async (t) => {
      const h = await createTestContext(t, dialect);
      if (!h) return;
      try {
        const { db, writer } = h.ctx;
        const stored = await Promise.all(
          [1, 2, 3].map((i) =>
            writer.submitOne({ raw: sampleEmail(`v${i}`, { body: `body ${i} `.repeat(200) }), channel: 'api' }),
          ),
        );
        const clean = await verifyEvidence(db);
        assert.equal(clean.checked, 3);
        assert.deepEqual(clean.mismatches, []);

        // Flip one byte of one stored row, directly in the database.
        const victim = stored[1].sha256;
        const row = await db
          .selectFrom('messages')
          .select('content')
          .where('sha256', '=', victim)
          .executeTakeFirstOrThrow();
        const tampered = Buffer.from(row.content);
        tampered[Math.floor(tampered.length / 2)] ^= 0x01;
        await db.updateTable('messages').set({ content: tampered }).where('sha256', '=', victim).execute();
        const dirty = await verifyEvidence(db);
        assert.equal(dirty.checked, 3);
        assert.deepEqual(
          dirty.mismatches.map((m) => m.sha256),
          [victim],
        );

        // Raw SQL (no application code) to prove the check reads what is really on disk.
        const size = await sql<{ n: number }>`select count(*) as n from messages`.execute(db);
        assert.equal(Number(size.rows[0].n), 3);
        assert.equal(dialectOf(db), dialect);
      } finally {
        await h.close();
      }
    });
  });
}

test('the SQLite commit thread keeps units atomic and carries errors and duplicates back', async (t) => {
  const h = await createTestContext(t, 'sqlite', {}, { commitThread: true });
  if (!h) return;
  try {
    const { db, writer } = h.ctx;
    const bad = writer.submit([
      { raw: sampleEmail('t-bad-1'), channel: 'api' },
      { raw: sampleEmail('t-bad-2'), channel: 'api', reporterTokenId: 'no-such-token' },
    ]);
    const good = writer.submit([
      { raw: sampleEmail('t-good'), channel: 'api', dedupKey: 'idem:t', dedupRequiresSameMessage: true },
    ]);
    await assert.rejects(bad, (e: unknown) => e instanceof Error && /FOREIGN KEY/i.test(e.message));
    const [g] = await good;
    const again = await writer.submitOne({
      raw: sampleEmail('t-good'),
      channel: 'api',
      dedupKey: 'idem:t',
      dedupRequiresSameMessage: true,
    });
    assert.equal(again.id, g.id);
    assert.equal(again.duplicate, true);
    await assert.rejects(
      writer.submitOne({
        raw: sampleEmail('t-other'),
        channel: 'api',
        dedupKey: 'idem:t',
        dedupRequiresSameMessage: true,
      }),
      (e: unknown) => e instanceof AppError && e.code === 'CONFLICT',
    );
    assert.equal((await db.selectFrom('reports').select('id').execute()).length, 1);
    assert.equal((await db.selectFrom('messages').select('sha256').execute()).length, 1);
    assert.ok((await getMessageRaw(db, g.sha256))?.equals(sampleEmail('t-good')), 'written by the thread, read here');
  } finally {
    await h.close();
  }
});
