/**
 * The band look-up of clustering on both engines: an index range read, not a scan of the table, even
 * when the engine has no statistics for it (a new instance, autovacuum off or behind an insert burst)
 * once the table is past a few thousand rows, and the rows it keeps under its bound do not depend on
 * the plan.
 *
 * Before migration 0291 PostgreSQL answered `band_key IN (…) LIMIT 256` with a sequential scan
 * whenever the table had not been analysed: the scale bench of 2026-12-04 read 56.7 million rows of
 * `campaign_bands` for 5,000 reports, every one of them a whole-table scan.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledQuery } from 'kysely';
import { DIALECTS, createTestDatabase } from '../db/test-databases.ts';
import { seededRng } from './personalise.ts';
import { bandRowsQuery } from './cluster.ts';

const ROWS = 20_000;
const BANDS_PER_REP = 16;

for (const dialect of DIALECTS) {
  describe(`the band look-up on ${dialect}`, () => {
    test('reads the index, not the table, when a table of 20,000 rows has no statistics', async (t) => {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return;
      try {
        const rng = seededRng(11);
        // Band keys as the fingerprint makes them: 16 per representative, spread over ~2^36.
        const key = () => Math.floor(rng() * 2 ** 36);
        const rows: { band_key: number; rep_id: string; campaign_id: string }[] = [];
        for (let i = 0; i < ROWS; i++) {
          const rep = `rep${Math.floor(i / BANDS_PER_REP)}`;
          rows.push({ band_key: key(), rep_id: rep, campaign_id: `c${rep}` });
        }
        for (let i = 0; i < rows.length; i += 1000)
          await tdb.db
            .insertInto('campaign_bands')
            .values(rows.slice(i, i + 1000))
            .execute();
        const probe = rows.slice(4000, 4000 + BANDS_PER_REP).map((r) => r.band_key);
        const q = bandRowsQuery(tdb.db, probe).compile();
        if (dialect === 'postgres') {
          const plan = await tdb.db.executeQuery<{ 'QUERY PLAN': unknown }>(
            CompiledQuery.raw(`explain (format json) ${q.sql}`, [...q.parameters]),
          );
          const text = JSON.stringify(plan.rows[0]['QUERY PLAN']);
          assert.doesNotMatch(text, /"Seq Scan"/, `a table scan for ${BANDS_PER_REP} keys: ${text}`);
          assert.match(text, /campaign_bands_key_rep_idx/);
        } else {
          const plan = await tdb.db.executeQuery<{ detail: string }>(
            CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]),
          );
          const details = plan.rows.map((r) => r.detail).join(' | ');
          assert.match(details, /SEARCH campaign_bands USING COVERING INDEX campaign_bands_key_rep_idx/, details);
          assert.doesNotMatch(details, /SCAN campaign_bands(?! USING)/, details);
        }
        const got = await bandRowsQuery(tdb.db, probe).execute();
        assert.deepEqual(
          got.map((r) => r.rep_id),
          Array(BANDS_PER_REP).fill('rep250'),
          'the representative whose bands were asked for, once per band',
        );
      } finally {
        await tdb.drop();
      }
    });

    test('keeps the same rows under its bound whatever the plan: the lowest keys first', async (t) => {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return;
      try {
        // 300 representatives share band 7 and 300 others band 9: more than the bound of 256.
        const rows = [
          ...Array.from({ length: 300 }, (_, i) => ({ band_key: 9, rep_id: `b${String(i).padStart(3, '0')}` })),
          ...Array.from({ length: 300 }, (_, i) => ({ band_key: 7, rep_id: `a${String(i).padStart(3, '0')}` })),
        ].map((r) => ({ ...r, campaign_id: 'c' }));
        await tdb.db.insertInto('campaign_bands').values(rows).execute();
        const got = (await bandRowsQuery(tdb.db, [9, 7]).execute()).map((r) => r.rep_id);
        assert.equal(got.length, 256);
        assert.deepEqual(
          got,
          Array.from({ length: 256 }, (_, i) => `a${String(i).padStart(3, '0')}`),
        );
      } finally {
        await tdb.drop();
      }
    });
  });
}
