/**
 * The campaign stage's classification and fingerprint, made in the analysis threads beside each
 * record (thread-prepare.ts as the pool's reducer), are exactly what the stage's own thread makes
 * of the same record, on real corpus messages of every corpus, mixed as they come; and a result
 * is taken once, for its own record only (also when read back from the database).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { testConfig } from '../core/config.ts';
import { corpusMessages } from '../analysis/test-support/corpus-messages.ts';
import { AnalysisPool } from '../analysis/pool.ts';
import { analysisSettingsFrom } from '../analysis/settings.ts';
import { fingerprintOf } from './fingerprint.ts';
import { classifierFrom, classifierSettings, prepareAlongside, takePrepared } from './thread-prepare.ts';

const NOW = new Date('2026-03-01T00:00:00Z');
/** Every STRIDE-th corpus message: all the corpora (SMS included), spam and ham. */
const STRIDE = 151;

test('the analysis threads classify and fingerprint corpus messages exactly as the campaign stage does', {
  timeout: 600_000,
}, async (t) => {
  if (!needsCorpus(t)) return;
  const config = testConfig();
  const pool = new AnalysisPool({
    size: 2,
    settings: analysisSettingsFrom(config),
    fixedNow: NOW,
    offline: true,
    reducer: prepareAlongside.module,
    reducerData: prepareAlongside.data(config),
  });
  const classifier = classifierFrom(classifierSettings(config));
  try {
    const sample = corpusMessages(CORPUS_DIR).filter((_, i) => i % STRIDE === 0);
    let compared = 0;
    const categories = new Set<string>();
    for (const m of sample) {
      const r = await pool.analyse(m.raw, { reduce: 'alongside' });
      prepareAlongside.take(r.analysis, r.reduced);
      const made = takePrepared(r.analysis);
      assert.ok(made, `${m.origin}: the thread made nothing (${r.outcome})`);
      assert.deepEqual(made.verdict, classifier.classify(r.analysis), m.origin);
      assert.deepEqual(made.fp, fingerprintOf(r.analysis), m.origin);
      // Taken once: a second report of the message works its own out.
      assert.equal(takePrepared(r.analysis), undefined);
      categories.add(made.verdict.category);
      compared++;
    }
    assert.ok(compared >= 100, `only ${compared} corpus messages compared`);
    assert.ok(categories.size >= 3, `only ${[...categories].join(', ')} among the sample`);
  } finally {
    await pool.close();
  }
});

test('a thread result is kept only for the record it was made from', async () => {
  const config = testConfig();
  const pool = new AnalysisPool({
    size: 1,
    settings: analysisSettingsFrom(config),
    fixedNow: NOW,
    offline: true,
    reducer: prepareAlongside.module,
    reducerData: prepareAlongside.data(config),
  });
  try {
    const raw = (n: number) =>
      Buffer.from(`From: a@example.com\r\nTo: b@example.org\r\nSubject: Win a prize ${n}\r\n\r\nClaim now ${n}\r\n`);
    const [a, b] = await Promise.all([
      pool.analyse(raw(1), { reduce: 'alongside' }),
      pool.analyse(raw(2), { reduce: 'alongside' }),
    ]);
    // b's result offered for a: refused (its fingerprint is of another message).
    prepareAlongside.take(a.analysis, b.reduced);
    assert.equal(takePrepared(a.analysis), undefined);
    prepareAlongside.take(a.analysis, { verdict: 'spam', fp: null });
    assert.equal(takePrepared(a.analysis), undefined);
    // The record read back from the database (an equal copy) has it; another analysis of the
    // same message (another time) has none.
    prepareAlongside.take(a.analysis, a.reduced);
    assert.equal(takePrepared({ ...a.analysis, analysedAt: '2026-03-02T00:00:00.000Z' }), undefined);
    assert.ok(takePrepared(structuredClone(a.analysis)));
    assert.equal(takePrepared(a.analysis), undefined);
  } finally {
    await pool.close();
  }
});
