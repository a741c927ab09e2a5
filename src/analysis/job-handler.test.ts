/**
 * The analyse-report job end to end on both engines: a stored report is analysed in worker
 * threads, stored with its indicators, the campaign-report job is enqueued in the same
 * transaction, a second report of the same bytes reuses the analysis, and the API shows it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestContext, sampleEmail } from '../app/test-context.ts';
import { createToken } from '../db/tokens.ts';
import { DIALECTS } from '../db/test-databases.ts';
import { buildApp } from '../app/build-app.ts';
import { startWorkers } from '../workers/runner.ts';
import { ANALYSER_VERSION } from './analysis-schema.ts';
import { jobHandler } from '../app/pipeline.ts';
import { messagesWithIndicator } from './repository.ts';
import { decodeTime } from 'ulid';

for (const dialect of DIALECTS) {
  describe(`analyse-report job (${dialect})`, () => {
    test('analyses, stores indicators, enqueues campaign-report, reuses, and is visible through the API', async (t) => {
      const h = await createTestContext(t, dialect, { workers: 1 });
      if (!h) return;
      const handler = jobHandler('analyse-report');
      const app = await buildApp(h.ctx);
      let runner: ReturnType<typeof startWorkers> | null = null;
      try {
        const raw = sampleEmail('job', {
          body:
            'Call +33 6 12 34 56 78 or visit hxxp://evil[.]example/pay today. BTC ' +
            '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2',
        });
        const [r1, r2] = await h.ctx.writer.submit([
          { raw, channel: 'api', note: 'I never subscribed to this' },
          { raw, channel: 'web', context: { consent: true } },
        ]);
        assert.equal(r1.sha256, r2.sha256);
        runner = startWorkers(h.ctx, [handler]);
        // The runner's own loop may already hold the jobs: wait until none is left.
        for (let i = 0; i < 600; i++) {
          await runner.drain();
          const waiting = await h.ctx.db.selectFrom('jobs').select('id').where('kind', '=', 'analyse-report').execute();
          if (waiting.length === 0) break;
          await new Promise((r) => setTimeout(r, 50));
        }

        const failed = await h.ctx.db
          .selectFrom('jobs')
          .select(['kind', 'last_error'])
          .where('last_error', 'is not', null)
          .execute();
        assert.deepEqual(failed, [], 'no job failed');
        const rows = await h.ctx.db.selectFrom('analyses').selectAll().execute();
        assert.equal(rows.length, 1, 'one analysis for two reports of the same bytes');
        assert.equal(rows[0].version, ANALYSER_VERSION);
        assert.equal(rows[0].subject, 'You have won #job');
        assert.equal(rows[0].from_domain, 'spam.example');
        assert.equal(rows[0].error, null);

        const next = await h.ctx.db
          .selectFrom('jobs')
          .select(['kind', 'payload', 'run_at'])
          .where('kind', '=', 'campaign-report')
          .execute();
        assert.deepEqual(next.map((j) => JSON.parse(j.payload).reportId).sort(), [r1.id, r2.id].sort());
        for (const j of next)
          assert.equal(
            j.run_at,
            new Date(decodeTime(JSON.parse(j.payload).reportId)).toISOString(),
            'the campaign job is due at its report’s intake time, so reports are placed in the order they came',
          );

        assert.deepEqual(await messagesWithIndicator(h.ctx.db, 'phone', '+33612345678'), [r1.sha256]);
        assert.deepEqual(await messagesWithIndicator(h.ctx.db, 'domain', 'evil.example'), [r1.sha256]);
        assert.deepEqual(await messagesWithIndicator(h.ctx.db, 'wallet', '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2'), [
          r1.sha256,
        ]);
        assert.deepEqual(await messagesWithIndicator(h.ctx.db, 'email', 'bulk@spam.example'), [r1.sha256]);

        const analyst = await createToken(h.ctx.db, { role: 'analyst' });
        const auth = { authorization: `Bearer ${analyst.secret}` };
        const v1 = await app.inject({ method: 'GET', url: `/api/v1/reports/${r1.id}`, headers: auth });
        assert.equal(v1.statusCode, 200, v1.body);
        const a1 = v1.json().analysis;
        assert.equal(a1.sha256, r1.sha256);
        assert.equal(a1.compliance.consent.stated, 'not-given');
        assert.ok(a1.findings.some((f: { code: string }) => f.code === 'CONSENT_DENIED_BY_REPORTER'));
        assert.ok(
          a1.indicators.urls.some(
            (u: { registrableDomain: string; source: string }) =>
              u.registrableDomain === 'evil.example' && u.source === 'defanged',
          ),
        );
        const a2 = (await app.inject({ method: 'GET', url: `/api/v1/reports/${r2.id}`, headers: auth })).json()
          .analysis;
        assert.equal(a2.compliance.consent.stated, 'given', 'the consent shown is the viewed report’s own');
        assert.ok(!a2.findings.some((f: { code: string }) => f.code === 'CONSENT_DENIED_BY_REPORTER'));

        const durations = await h.ctx.metrics.registry.getSingleMetricAsString('spamdesk_analysis_duration_seconds');
        assert.match(durations, /spamdesk_analysis_duration_seconds_count\{outcome="ok"\} 1/);
      } finally {
        await runner?.stop();
        await app.close();
        await h.close();
      }
    });
  });
}
