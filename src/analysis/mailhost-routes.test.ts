/**
 * Declared mail hosts through the API and the pipeline, on both engines: a reporter declares the
 * forwarder that feeds their mailbox, and the trace-back of their next report looks past it — while
 * another reporter's report through the same forwarder is traced as before; refused declarations
 * are named with their reasons and change nothing; an intake's declarations are the admin's; an
 * erased account's go with it.
 * Real corpus messages (the vineyard.net forward into a SpamAssassin trap).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../db/test-databases.ts';
import { createTestContext } from '../app/test-context.ts';
import { buildApp } from '../app/build-app.ts';
import { createToken } from '../db/tokens.ts';
import { reporterAccounts } from './test-support/reporters.ts';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { readLabelled } from '../../scripts/eval/evaluate-traceback.ts';
import { startWorkers } from '../workers/runner.ts';
import { jobHandler } from '../app/pipeline.ts';
import { AnalysisSchema } from './analysis-schema.ts';

/** Forwarded by k1.vineyard.net 204.17.195.90 into the trap; both entered vineyard.net from 64.52.14.131. */
const VINEYARD_A = 'spamassassin/hard_ham/00152.651a40f1c0b2ba19122eccebccbae788';
const VINEYARD_B = 'spamassassin/hard_ham/00154.c3c99795c6f5d902ce025522136f8cd3';

for (const dialect of DIALECTS) {
  test(`[${dialect}] a reporter's declared forwarder is looked past in their reports only; refused declarations change \
nothing`, async (t) => {
    if (!needsCorpus(t, 'spamassassin')) return;
    const h = await createTestContext(t, dialect, { workers: 1 });
    if (!h) return;
    const { db } = h.ctx;
    const app = await buildApp(h.ctx);
    let runner: ReturnType<typeof startWorkers> | null = null;
    try {
      const [lea, bob] = await reporterAccounts(db, 'lea@trap.example.net', 'bob@other.example.net');
      const leaToken = await createToken(db, { role: 'reporter', userId: lea, name: 'addon' });
      const auth = { authorization: `Bearer ${leaToken.secret}` };

      const anonymous = await app.inject({ method: 'GET', url: '/api/v1/account/mailhosts' });
      assert.equal(anonymous.statusCode, 401);

      const put = await app.inject({
        method: 'PUT',
        url: '/api/v1/account/mailhosts',
        headers: auth,
        payload: { hosts: ['Vineyard.NET', { host: '192.0.2.0/24', note: 'my old filter' }] },
      });
      assert.equal(put.statusCode, 200, put.body);
      assert.deepEqual(put.json().added.sort(), ['*.vineyard.net', '192.0.2.0/24']);

      // A list with a bad entry is refused whole, each bad entry named with its reason.
      const bad = await app.inject({
        method: 'PUT',
        url: '/api/v1/account/mailhosts',
        headers: auth,
        payload: { hosts: ['vineyard.net', '10.0.0.0/8', 'gmail.com'] },
      });
      assert.equal(bad.statusCode, 400);
      const problems = bad.json().details.problems as { host: string; problem: string }[];
      assert.deepEqual(
        problems.map((p) => p.host),
        ['10.0.0.0/8', 'gmail.com'],
      );
      assert.match(problems[0].problem, /wider than \/16/);
      assert.match(problems[1].problem, /trusted provider/);
      const view = await app.inject({ method: 'GET', url: '/api/v1/account/mailhosts', headers: auth });
      assert.deepEqual(
        view.json().declared.map((d: { host: string; note: string | null }) => [d.host, d.note]),
        [
          ['192.0.2.0/24', 'my old filter'],
          ['*.vineyard.net', null],
        ],
      );
      const audited = await db
        .selectFrom('audit_log')
        .select(['action', 'subject'])
        .where('action', '=', 'traceback.mailhosts.declare')
        .execute();
      assert.deepEqual(audited, [{ action: 'traceback.mailhosts.declare', subject: `user:${lea}` }]);

      // A reporter may not declare for an intake; an admin may, for a known channel only.
      assert.equal(
        (await app.inject({ method: 'GET', url: '/api/v1/intakes/smtp/mailhosts', headers: auth })).statusCode,
        403,
      );
      const admin = await createToken(db, { role: 'admin' });
      const adminAuth = { authorization: `Bearer ${admin.secret}` };
      assert.equal(
        (await app.inject({ method: 'GET', url: '/api/v1/intakes/carrier-pigeon/mailhosts', headers: adminAuth }))
          .statusCode,
        404,
      );
      const intake = await app.inject({
        method: 'PUT',
        url: '/api/v1/intakes/import/mailhosts',
        headers: adminAuth,
        payload: { hosts: ['mx.feedforwarder.net'] },
      });
      assert.equal(intake.statusCode, 200, intake.body);
      assert.deepEqual(intake.json().added, ['mx.feedforwarder.net']);

      // Léa and Bob each report a message the same forwarder handed to their mail system.
      const [rLea, rBob] = await h.ctx.writer.submit([
        { raw: readLabelled(CORPUS_DIR, VINEYARD_A), channel: 'api', reporterUserId: lea },
        { raw: readLabelled(CORPUS_DIR, VINEYARD_B), channel: 'api', reporterUserId: bob },
      ]);
      runner = startWorkers(h.ctx, [jobHandler('analyse-report')]);
      for (let i = 0; i < 600; i++) {
        await runner.drain();
        const waiting = await db.selectFrom('jobs').select('id').where('kind', '=', 'analyse-report').execute();
        if (waiting.length === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const originOf = async (sha256: string) => {
        const row = await db
          .selectFrom('analyses')
          .select('json')
          .where('message_sha256', '=', sha256)
          .executeTakeFirst();
        assert.ok(row, `analysis of ${sha256}`);
        const a = AnalysisSchema.parse(JSON.parse(row.json));
        return { ip: a.traceback.origin?.ip ?? null, steps: a.traceback.steps.join('\n') };
      };
      const leas = await originOf(rLea.sha256);
      assert.equal(leas.ip, '64.52.14.131', leas.steps);
      assert.match(leas.steps, /a domain the reporter declared as their own mail side/);
      const bobs = await originOf(rBob.sha256);
      assert.equal(bobs.ip, '204.17.195.90', bobs.steps);

      // Clearing the list clears it.
      const cleared = await app.inject({
        method: 'PUT',
        url: '/api/v1/account/mailhosts',
        headers: auth,
        payload: { hosts: [] },
      });
      assert.equal(cleared.statusCode, 200);
      assert.deepEqual(cleared.json().declared, []);
      assert.equal(cleared.json().removed.length, 2);

      // An account's declarations say where it receives mail: erased with the account.
      await app.inject({
        method: 'PUT',
        url: '/api/v1/account/mailhosts',
        headers: auth,
        payload: { hosts: ['vineyard.net'] },
      });
      const erased = await app.inject({
        method: 'POST',
        url: '/api/v1/account/erasure',
        headers: auth,
        payload: { confirm: 'erase' },
      });
      assert.equal(erased.statusCode, 200, erased.body);
      const left = await db
        .selectFrom('analysis_declared_mailhosts')
        .select('reporter_key')
        .where('reporter_key', '=', `user:${lea}`)
        .execute();
      assert.deepEqual(left, []);
    } finally {
      await runner?.stop();
      await app.close();
      await h.close();
    }
  });
}
