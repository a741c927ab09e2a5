/**
 * The stored monthly report: views read what was built while it is fresh (an hour) or settled
 * (built two days after its month ended, as sent to the authorities), a later view builds it again,
 * and the scheduler's pass keeps the recent months fresh and fills one missing earlier month at a
 * time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestDatabase } from '../../db/test-databases.ts';
import { closeContext, createContext } from '../../app/context.ts';
import { createLogger } from '../../core/logger.ts';
import { sampleEmail } from '../../app/test-context.ts';
import { monthlyReport, rebuildMonthlyReport, refreshMonthlyReports, storedMonthlyReport } from './snapshots.ts';

const HOUR = 3_600_000;

for (const dialect of DIALECTS) {
  test(`[${dialect}] a monthly report is read from its stored copy while fresh or settled, and built again once \
stale or when asked`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config), migrate: false });
    const db = ctx.db;
    let n = 0;
    const report = (receivedAt: string) =>
      ctx.writer.submitOne({ raw: sampleEmail(`m${++n}`), channel: 'api', receivedAt });
    try {
      // November, seen during November: fresh for an hour, then built again.
      const during = new Date('2026-11-20T10:00:00Z');
      await report('2026-11-03T08:00:00Z');
      const first = await monthlyReport(db, '2026-11', during);
      assert.equal(first.totals.reports, 1);
      await report('2026-11-04T08:00:00Z');
      const cached = await monthlyReport(db, '2026-11', new Date(during.getTime() + 50 * 60_000));
      assert.equal(cached.generatedAt, first.generatedAt, 'within the hour: the stored report');
      assert.equal(cached.totals.reports, 1);
      const later = await monthlyReport(db, '2026-11', new Date(during.getTime() + 2 * HOUR));
      assert.equal(later.totals.reports, 2, 'after the hour: built again');
      assert.equal(later.generatedAt, new Date(during.getTime() + 2 * HOUR).toISOString());

      // Built on 3 December (two days after November ended): settled, kept a month later.
      const settledAt = new Date('2026-12-03T12:00:00Z');
      const settled = await monthlyReport(db, '2026-11', settledAt);
      assert.equal(settled.generatedAt, settledAt.toISOString());
      await report('2026-11-05T08:00:00Z');
      const kept = await monthlyReport(db, '2026-11', new Date('2027-01-10T00:00:00Z'));
      assert.equal(kept.generatedAt, settledAt.toISOString(), 'a settled report stays as it was');
      assert.equal(kept.totals.reports, 2);
      const rebuilt = await rebuildMonthlyReport(db, '2026-11', new Date('2027-01-10T00:00:00Z'));
      assert.equal(rebuilt.totals.reports, 3, 'a rebuild counts the late report');
      assert.equal((await storedMonthlyReport(db, '2026-11'))?.totals.reports, 3, 'and is the one kept');

      // A month that has not begun is answered, not kept.
      const future = await monthlyReport(db, '2027-05', new Date('2027-01-10T00:00:00Z'));
      assert.equal(future.totals.reports, 0);
      assert.equal(await storedMonthlyReport(db, '2027-05'), null);
    } finally {
      await closeContext(ctx);
    }
  });

  test(`[${dialect}] the scheduler's pass keeps this month and last month fresh and builds one missing earlier \
month per pass`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config), migrate: false });
    const db = ctx.db;
    try {
      await ctx.writer.submitOne({ raw: sampleEmail('sep'), channel: 'api', receivedAt: '2026-09-14T08:00:00Z' });
      await ctx.writer.submitOne({ raw: sampleEmail('dec'), channel: 'api', receivedAt: '2026-12-02T08:00:00Z' });
      const now = new Date('2026-12-03T12:00:00Z');
      assert.deepEqual(await refreshMonthlyReports(db, now), ['2026-12', '2026-11', '2026-10']);
      assert.deepEqual(await refreshMonthlyReports(db, now), ['2026-09']);
      assert.deepEqual(await refreshMonthlyReports(db, now), [], 'every month since the first report is stored');
      assert.equal((await storedMonthlyReport(db, '2026-09'))?.totals.reports, 1);
      assert.equal((await storedMonthlyReport(db, '2026-12'))?.totals.reports, 1);
      // Two hours on: November was built after it settled and stays; December is built again.
      assert.deepEqual(await refreshMonthlyReports(db, new Date(now.getTime() + 2 * HOUR)), ['2026-12']);
      assert.equal(await storedMonthlyReport(db, '2026-08'), null, 'nothing before the first report');
    } finally {
      await closeContext(ctx);
    }
  });
}
