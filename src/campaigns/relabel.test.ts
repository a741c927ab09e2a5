/**
 * The category in force for many messages at once (the actions stage, the campaign stage's batch,
 * the web index): the latest relabel by time then id, else the automatic category — what
 * `currentCategory` answers one message at a time — on both engines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase } from '../db/test-databases.ts';
import { currentCategories, currentCategory, relabelledCategories } from './relabel.ts';

const sha = (n: number) => n.toString(16).padStart(64, '0');

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`[${dialect}] the latest relabel wins over older ones and the automatic category, in a batch`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    try {
      const { db } = tdb;
      await db
        .insertInto('classifications')
        .values(
          [1, 2, 3].map((n) => ({
            sha256: sha(n),
            category: 'commercial',
            confidence: 0.9,
            reasons: '[]',
            model_version: 't',
            classified_at: '2026-01-01T00:00:00.000Z',
          })),
        )
        .execute();
      const relabel = (id: string, n: number, category: string, at: string) => ({
        id,
        report_id: `r${n}`,
        message_sha256: sha(n),
        category,
        previous_category: null,
        actor: 'user:a:analyst',
        at,
      });
      await db
        .insertInto('relabels')
        .values([
          // Message 1: relabelled twice, the later one (by time) wins whatever the insertion order.
          relabel('01B', 1, 'phishing', '2026-01-03T00:00:00.000Z'),
          relabel('01A', 1, 'scam', '2026-01-02T00:00:00.000Z'),
          // Message 4: two relabels at the same instant: the greater id wins; no automatic category.
          relabel('01C', 4, 'scam', '2026-01-05T00:00:00.000Z'),
          relabel('01D', 4, 'legitimate', '2026-01-05T00:00:00.000Z'),
        ])
        .execute();
      const wanted = [sha(1), sha(2), sha(4), sha(5), sha(1)];
      assert.deepEqual(Object.fromEntries(await relabelledCategories(db, wanted)), {
        [sha(1)]: 'phishing',
        [sha(4)]: 'legitimate',
      });
      const batch = await currentCategories(db, wanted);
      assert.deepEqual(Object.fromEntries(batch), {
        [sha(1)]: 'phishing',
        [sha(2)]: 'commercial',
        [sha(4)]: 'legitimate',
      });
      // One at a time gives the same.
      for (const s of new Set(wanted)) assert.equal(await currentCategory(db, s), batch.get(s) ?? null);
    } finally {
      await tdb.drop();
    }
  });
}
