/**
 * Every message of ../shared/corpus goes through the analysis (worker-thread pool on every core,
 * offline ports) and comes back as a valid record: no exception escapes, no stage fails, nothing
 * hangs. Skips loudly when the corpus is absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { AnalysisSchema } from './analysis-schema.ts';
import { corpusMessages } from './test-support/corpus-messages.ts';
import { AnalysisPool } from './pool.ts';
import { defaultAnalysisSettings } from './settings.ts';

test('every corpus message analyses without an exception, a failed stage or a hang', {
  timeout: 900_000,
}, async (t) => {
  if (!needsCorpus(t)) return;
  const messages = corpusMessages(CORPUS_DIR);
  assert.ok(messages.length > 15_000, `corpus has ${messages.length} messages`);
  // Time bound raised well above the default: this test is about exceptions, and CI machines are shared.
  const pool = new AnalysisPool({
    size: os.availableParallelism(),
    settings: defaultAnalysisSettings({ timeoutMs: 30_000, dnsMode: 'offline' }),
    fixedNow: new Date('2026-01-01T00:00:00Z'),
  });
  const problems: string[] = [];
  let invalid = 0;
  try {
    for (let i = 0; i < messages.length; i += 256) {
      const batch = messages.slice(i, i + 256);
      const results = await Promise.all(batch.map((m) => pool.analyse(m.raw)));
      results.forEach((r, k) => {
        const origin = batch[k].origin;
        if (!AnalysisSchema.safeParse(r.analysis).success) invalid++;
        if (r.outcome !== 'ok') problems.push(`${origin}: ${r.outcome} ${r.analysis.error?.message ?? ''}`);
        for (const f of r.analysis.findings)
          if (f.code === 'STAGE_ERROR' || f.code === 'ANALYSIS_ERROR')
            problems.push(`${origin}: ${f.code} ${f.message}`);
      });
    }
  } finally {
    await pool.close();
  }
  assert.equal(invalid, 0, 'every record matches the Analysis schema');
  assert.deepEqual(problems.slice(0, 20), [], `${problems.length} problem(s)`);
});
