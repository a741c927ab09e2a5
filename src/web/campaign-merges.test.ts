/**
 * A campaign's count agrees between the dashboard and its page after a merge: the reports of a
 * merged campaign move, in the index and in the daily and monthly roll-ups, to the campaign it
 * redirects to, so the dashboard's top campaigns equal `campaigns.report_count` (issue 18: 1,138
 * on the dashboard against 1,834 on the campaign's page).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestDatabase } from '../db/test-databases.ts';
import { ReportWriter } from '../evidence/report-writer.ts';
import { mergeCampaigns } from '../campaigns/campaign-store.ts';
import { indexAll } from './indexer.ts';
import { MERGE_LAG_MS, followCampaignMerges } from './campaign-merges.ts';
import { listReports, rangeOf } from './queries.ts';
import { topValues } from './top-values.ts';
import { sampleSpam } from './test-helpers.ts';

for (const dialect of DIALECTS) {
  test(`${dialect}: after a merge the dashboard counts what the campaign page counts`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    const writer = new ReportWriter(tdb.db);
    t.after(async () => {
      await writer.close();
      await tdb.drop();
    });
    const { db } = tdb;
    const stored = await writer.submit(
      Array.from({ length: 5 }, (_, i) => ({
        raw: sampleSpam({ subject: `Parcel waiting ${i}` }),
        channel: 'web' as const,
        // Two months, so both the daily and the monthly roll-ups are exercised.
        receivedAt: new Date(Date.UTC(2026, 9 + (i % 2), 3 + i, 9)).toISOString(),
        reporterUserId: null,
      })),
    );
    const at = '2026-11-20T00:00:00.000Z';
    const [a, b] = ['01JB000000000000000000000A', '01JB000000000000000000000B'];
    const members = { [a]: stored.slice(0, 2), [b]: stored.slice(2) };
    for (const [id, reports] of Object.entries(members)) {
      await db
        .insertInto('campaigns')
        .values({
          id,
          merged_into: null,
          category: 'phishing',
          core_signature: null,
          core_kind: null,
          first_seen_at: at,
          last_seen_at: at,
          message_count: reports.length,
          report_count: reports.length,
          created_at: at,
          updated_at: at,
        })
        .execute();
      for (const r of reports)
        await db
          .insertInto('campaign_messages')
          .values({ sha256: r.sha256, campaign_id: id, kind: 'email', via: 'new', similarity: 1, joined_at: at })
          .execute();
    }
    await indexAll(db);
    const year = rangeOf('2026-01-01', '2026-12-31');
    const month = rangeOf('2026-11-01', '2026-11-30');
    const top = async (r = year) => Object.fromEntries((await topValues(db, 'campaign', r)).map((x) => [x.value, x.n]));
    assert.deepEqual(await top(), { [a]: 2, [b]: 3 });

    await mergeCampaigns(db, a, [b], new Date().toISOString());
    const page = await db.selectFrom('campaigns').select('report_count').where('id', '=', a).executeTakeFirstOrThrow();
    assert.equal(Number(page.report_count), 5, 'the campaign page counts the merged reports');
    assert.deepEqual(await top(), { [a]: 2, [b]: 3 }, 'before the indexer follows the merge, the counts disagree');

    // Within the lag nothing moves (a merge may still be committing); after it, everything does.
    assert.equal(await followCampaignMerges(db, Date.now()), 0);
    assert.equal(await followCampaignMerges(db, Date.now() + MERGE_LAG_MS + 1000), 3);
    assert.deepEqual(await top(), { [a]: 5 }, 'a year (monthly roll-ups) agrees with the page');
    // Reports 1 and 3 were received in November.
    assert.deepEqual(await top(month), { [a]: 2 }, 'a month (daily roll-ups) too');
    const list = await listReports(db, { kind: 'all' }, { campaign: a }, null, 50);
    assert.equal(list.rows.length, 5, 'and the campaign filter of the report list');
    assert.equal(await followCampaignMerges(db, Date.now() + MERGE_LAG_MS + 2000), 0, 'idempotent');
    const left = await db.selectFrom('web_rollup_daily').select('n').where('value', '=', b).execute();
    assert.deepEqual(left, [], 'no zero rows left behind for the merged campaign');
  });
}
