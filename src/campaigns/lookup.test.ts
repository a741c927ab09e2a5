/**
 * The look-up's answer when its threads fingerprint the message (`lookup-print.ts` as the pool's
 * reducer) is the answer of the whole analysis fingerprinted on this thread, on real corpus
 * messages clustered by the real ingest path: same print, same campaigns, same figures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase } from '../db/test-databases.ts';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { corpusMessages } from '../analysis/test-support/corpus-messages.ts';
import { analyse } from '../analysis/analyse.ts';
import { offlinePorts } from '../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../analysis/settings.ts';
import { stagesFor } from '../analysis/registry.ts';
import { AnalysisPool } from '../analysis/pool.ts';
import { siblingModule } from '../core/ts-worker.ts';
import { fingerprintOf } from './fingerprint.ts';
import { findMatches, ingestFingerprint } from './cluster.ts';
import { lookupMessage } from './lookup.ts';
import { isLookupPrint } from './lookup-print.ts';

const NOW = new Date('2026-03-01T00:00:00Z');
/** Every STRIDE-th corpus message: all the corpora, mixed as they come, spam and ham. */
const STRIDE = 199;

test('the look-up threads fingerprint corpus messages exactly as this thread does, and the answers are the same', {
  timeout: 600_000,
}, async (t) => {
  if (!needsCorpus(t)) return;
  const tdb = await createTestDatabase(t, 'sqlite');
  if (!tdb) return;
  const settings = defaultAnalysisSettings();
  const ports = offlinePorts(NOW);
  const pool = new AnalysisPool({
    size: 1,
    settings,
    fixedNow: NOW,
    offline: true,
    reducer: siblingModule('./lookup-print.ts', import.meta.url),
  });
  try {
    const sample = corpusMessages(CORPUS_DIR).filter((_, i) => i % STRIDE === 0);
    // The first two thirds are stored (the real clustering path); all are looked up.
    const stored = sample.slice(0, Math.floor((sample.length * 2) / 3));
    for (const [i, m] of stored.entries()) {
      const a = await analyse(m.raw, { ports, settings });
      await ingestFingerprint(tdb.db, fingerprintOf(a), {
        seenAt: new Date(NOW.getTime() + i * 1000).toISOString(),
        category: i % 3 === 0 ? 'legitimate' : 'commercial',
      });
    }
    let matched = 0;
    let withText = 0;
    for (const m of sample) {
      const pooled = await pool.analyse(m.raw, { profile: 'lookup', reduce: true });
      const here = await analyse(m.raw, { ports, settings, stages: stagesFor('lookup') });
      assert.equal(pooled.analysis.error, here.error, m.origin);
      if (here.error) continue;
      const fp = fingerprintOf(here);
      assert.ok(isLookupPrint(pooled.reduced), `${m.origin}: the thread sent a fingerprint`);
      assert.deepEqual(
        pooled.reduced,
        { kind: fp.kind, signature: fp.signature, bands: fp.bands, links: fp.links, tokenCount: fp.tokenCount },
        m.origin,
      );
      const answer = await lookupMessage(tdb.db, pool, m.raw);
      const expected = (await findMatches(tdb.db, fp)).slice(0, 10);
      assert.deepEqual(
        answer.matches.map((x) => [x.campaignId, x.similarity, x.matchedBy, x.category]),
        expected.map((x) => [x.campaignId, Math.round(x.similarity * 1000) / 1000, x.matchedBy, x.category]),
        m.origin,
      );
      assert.equal(answer.tokens, fp.tokenCount, m.origin);
      if (answer.matches.length > 0) matched++;
      if (answer.matches.some((x) => x.matchedBy.includes('text'))) withText++;
    }
    // Not an empty comparison: the stored messages find their campaigns, by text among others.
    assert.ok(matched >= stored.length / 2, `${matched} of ${sample.length} look-ups matched`);
    assert.ok(withText > 0, 'some matched by text');
  } finally {
    await pool.close();
    await tdb.drop();
  }
});
