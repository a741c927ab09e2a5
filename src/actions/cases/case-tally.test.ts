/**
 * A case's kept tally equals what grouping its reports gives, whatever happened to the case:
 * reports added, removed, merged in, re-analysed, deleted by retention, or a case from before the
 * tally existed; and the counts agree between the case list, the case page's total, its timeline
 * and its indicators.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import { DIALECTS, createTestDatabase } from '../../db/test-databases.ts';
import { closeContext, createContext } from '../../app/context.ts';
import { createLogger } from '../../core/logger.ts';
import type { Database } from '../../db/schema.ts';
import { parseActionPolicy } from '../action-policy.ts';
import { factsFrom, saveFacts } from '../report-facts.ts';
import { analysisFor, spamMessage } from '../test-factories.ts';
import { deleteReports } from '../../evidence/retention.ts';
import { addReportsToCase, mergeCases, openCase, removeReportsFromCase } from './cases.ts';
import { referenceTally, storedTally } from './test-tallies.ts';
import { caseFactsTally, caseReportsPage, caseTimeline } from './case-view.ts';
import { listCasePage } from './case-list.ts';

type Ref = { reportId: string; sha256: string };

/** The case list's count, the case page's total, its timeline's sum and its top network agree. */
async function assertPagesAgree(db: Kysely<Database>, caseId: string, expected: number): Promise<void> {
  const listed = (await listCasePage(db, {}, { limit: 500 })).cases.find((c) => c.id === caseId);
  const page = await caseReportsPage(db, caseId, null);
  const days = await caseTimeline(db, caseId);
  assert.equal(listed?.report_count, expected, 'case list count');
  assert.equal(page.total, expected, 'case page total');
  assert.equal(
    days.reduce((s, d) => s + d.n, 0),
    expected,
    'timeline sum',
  );
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] a case's kept tally equals its reports grouped after adds, removals, a merge, re-analysis \
and retention, and the case list, page, timeline and indicators agree`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config), migrate: false });
    const db = ctx.db;
    const policy = parseActionPolicy({});
    try {
      const analyses = new Map<string, { ip: string; asn: number; country: string }>();
      const ingest = async (n: number, ip: string, asn: number, country: string, url: string): Promise<Ref> => {
        const raw = spamMessage({ n, ip, to: 'someone@victim.example', url, from: `news@sender${n % 3}.example` });
        const stored = await ctx.writer.submitOne({ raw, channel: 'api', reporterAddress: 'someone@victim.example' });
        await refact(stored.id, stored.sha256, raw, { ip, asn, country });
        return { reportId: stored.id, sha256: stored.sha256 };
      };
      const raws = new Map<string, Buffer>();
      const refact = async (
        reportId: string,
        sha256: string,
        raw: Buffer,
        o: { ip: string; asn: number; country: string },
      ): Promise<void> => {
        raws.set(reportId, raw);
        analyses.set(reportId, o);
        const analysis = await analysisFor(raw, {
          ip: o.ip,
          asn: o.asn,
          asName: `NET-${o.asn}`,
          country: o.country,
          rdns: null,
          abuse: [],
        });
        const received = await db
          .selectFrom('reports')
          .select('received_at')
          .where('id', '=', reportId)
          .executeTakeFirstOrThrow();
        await saveFacts(
          db,
          factsFrom(
            {
              reportId,
              sha256,
              receivedAt: received.received_at,
              campaignId: 'camp-t',
              category: 'phishing',
              analysis,
            },
            policy,
          ),
        );
      };
      const reports: Ref[] = [];
      for (let n = 1; n <= 9; n++)
        reports.push(
          await ingest(
            n,
            `198.51.100.${n % 4}`,
            64_500 + (n % 2),
            n % 2 ? 'NL' : 'FR',
            `https://shop${n % 3}.example/x`,
          ),
        );
      const a = await openCase(db, {
        targetKind: 'campaign',
        targetValue: 'camp-t',
        title: 'tally A',
        category: 'phishing',
        openedBy: 'user:test',
      });
      const b = await openCase(db, {
        targetKind: 'sender_domain',
        targetValue: 'sender1.example',
        title: 'tally B',
        category: 'phishing',
        openedBy: 'user:test',
      });
      assert.equal(await addReportsToCase(db, a.id, reports.slice(0, 6), 'user:test'), 6);
      assert.equal(await addReportsToCase(db, b.id, reports.slice(4), 'user:test'), 5);
      assert.deepEqual(await storedTally(db, a.id), await referenceTally(db, a.id), 'after adding');
      await assertPagesAgree(db, a.id, 6);

      assert.equal(await removeReportsFromCase(db, a.id, [reports[1].reportId, reports[2].reportId], 'user:test'), 2);
      assert.deepEqual(await storedTally(db, a.id), await referenceTally(db, a.id), 'after removing');
      await assertPagesAgree(db, a.id, 4);

      // Reports 4 and 5 are in both cases: the merge adds only the three new ones.
      assert.equal(await mergeCases(db, a.id, [b.id], 'user:test'), 3);
      assert.deepEqual(await storedTally(db, a.id), await referenceTally(db, a.id), 'after the merge');
      assert.deepEqual(await storedTally(db, b.id), await referenceTally(db, b.id), 'the merged case keeps its own');
      await assertPagesAgree(db, a.id, 7);

      // Re-analysis moves a report's counts from its old origin to its new one.
      const moved = reports[0];
      await refact(moved.reportId, moved.sha256, raws.get(moved.reportId) ?? Buffer.alloc(0), {
        ip: '192.0.2.77',
        asn: 64_999,
        country: 'BR',
      });
      assert.deepEqual(await storedTally(db, a.id), await referenceTally(db, a.id), 'after re-analysis');
      const shown = await caseFactsTally(db, a.id);
      assert.ok(shown.origins.items.some((o) => o.ip === '192.0.2.77' && o.asn === 64_999 && o.country === 'BR'));
      assert.ok(shown.indicators.networks.items.some((x) => x.asn === 64_999 && x.asName === 'NET-64999'));
      assert.equal(
        shown.indicators.countries.items.reduce((s, c) => s + c.reports, 0),
        7,
        'every report of the case counted once by country',
      );
      assert.equal(shown.indicators.senderDomains.total, 3);

      // Retention deletes two of its reports: the tally is dropped, then rebuilt from what is left.
      await deleteReports(db, [reports[5].reportId, reports[6].reportId]);
      assert.equal(
        (await db.selectFrom('action_case_tallies').select('kind').where('case_id', '=', a.id).execute()).length,
        0,
        'retention dropped the tally of the case it touched',
      );
      await assertPagesAgree(db, a.id, 5);
      assert.deepEqual(await storedTally(db, a.id), await referenceTally(db, a.id), 'rebuilt after retention');

      // A case whose tally is missing (opened before migration 0180) is tallied when first read, and
      // reports joining it meanwhile are not counted twice.
      await db.deleteFrom('action_case_tallies').where('case_id', '=', b.id).execute();
      await db.updateTable('action_cases').set({ state: 'open', merged_into: null }).where('id', '=', b.id).execute();
      assert.equal(await addReportsToCase(db, b.id, [reports[0]], 'user:test'), 1);
      assert.equal(
        (await db.selectFrom('action_case_tallies').select('kind').where('case_id', '=', b.id).execute()).length,
        0,
        'an untallied case is left for its first read',
      );
      await assertPagesAgree(db, b.id, 4);
      assert.deepEqual(await storedTally(db, b.id), await referenceTally(db, b.id), 'built on first read');
    } finally {
      await closeContext(ctx);
    }
  });
}
