/**
 * Applying a listing verdict: a verdict with nothing to record takes no write lock (SQLite: no
 * `BEGIN IMMEDIATE`), so the listing pass does not queue behind the intake and the pipeline for
 * every value it judges; a verdict that changes a row still writes it, under the lock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { createTestDatabase } from '../../db/test-databases.ts';
import { applyVerdict, findListing, listingState } from './store.ts';
import type { Verdict } from './judge.ts';

const NOW = new Date('2026-11-20T12:00:00.000Z');

function verdict(o: Partial<Verdict>): Verdict {
  return {
    kind: 'ip',
    value: '45.33.10.20',
    outcome: 'none',
    list: 'infected',
    returnCode: null,
    category: null,
    reportCount: 1,
    campaignCount: 0,
    signals: [],
    reportIds: [],
    campaignIds: [],
    reasons: ['one report'],
    excluded: false,
    firstSeen: null,
    lastSeen: null,
    expiresAt: null,
    ...o,
  };
}

test('a verdict with nothing to record returns while another connection holds the SQLite write lock', async (t) => {
  const tdb = await createTestDatabase(t, 'sqlite');
  if (!tdb) return;
  t.after(() => tdb.drop());
  if (tdb.config.database.dialect !== 'sqlite') throw new Error('expected SQLite');
  await listingState(tdb.db);
  const other = new BetterSqlite3(tdb.config.database.path);
  t.after(() => other.close());
  other.exec('begin immediate');
  // Taking the lock here would wait out the busy timeout and then fail with SQLITE_BUSY.
  assert.equal(await applyVerdict(tdb.db, verdict({}), NOW), false);
  assert.equal(await applyVerdict(tdb.db, verdict({ excluded: true, value: '45.33.10.21' }), NOW), false);
  other.exec('rollback');
  assert.equal(await findListing(tdb.db, 'ip', '45.33.10.20'), undefined);

  // Listed, then judged again: not listable now but not excluded, it stays (no lock taken).
  const listed = verdict({ outcome: 'listed', returnCode: '127.0.0.2', expiresAt: '2026-11-27T12:00:00.000Z' });
  assert.equal(await applyVerdict(tdb.db, listed, NOW), true);
  other.exec('begin immediate');
  assert.equal(await applyVerdict(tdb.db, verdict({}), NOW), false);
  other.exec('rollback');
  assert.equal((await findListing(tdb.db, 'ip', '45.33.10.20'))?.state, 'listed');

  // Excluded now: it leaves the lists at once, written under the lock.
  assert.equal(await applyVerdict(tdb.db, verdict({ excluded: true, reasons: ['legitimate mail'] }), NOW), true);
  const row = await findListing(tdb.db, 'ip', '45.33.10.20');
  assert.equal(row?.state, 'expired');
  assert.deepEqual(JSON.parse(row?.evidence ?? '{}').reasons, ['legitimate mail']);
  assert.equal((await listingState(tdb.db)).revision, 2);
});
