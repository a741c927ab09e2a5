/**
 * The background backfill tallies cases that have none (opened before migration 0180) in bounded
 * steps, resumes from its stored cursor, and ends with the tally grouping the reports would give,
 * even when reports join, leave or are re-analysed between its steps; the case page then reads the
 * built tally instead of building it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { DIALECTS, createTestDatabase } from '../../db/test-databases.ts';
import { closeContext, createContext } from '../../app/context.ts';
import { createLogger } from '../../core/logger.ts';
import { parseActionPolicy } from '../action-policy.ts';
import { factsFrom, saveFacts } from '../report-facts.ts';
import { analysisFor, spamMessage } from '../test-factories.ts';
import { addReportsToCase, openCase, removeReportsFromCase } from './cases.ts';
import { BUILD_KIND, lockCaseTally, tallyState } from './case-tally.ts';
import { referenceTally, storedTally } from './test-tallies.ts';
import { backfillCaseTallies, backfillStep } from './case-tally-backfill.ts';
import { caseReportsPage } from './case-view.ts';
import { deleteReports } from '../../evidence/retention.ts';

for (const dialect of DIALECTS) {
  test(`[${dialect}] the backfill tallies cases from before migration 0180 two reports per transaction, \
resumes from its cursor, and counts reports that join, leave or are re-analysed between its steps once`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config), migrate: false });
    const db = ctx.db;
    const policy = parseActionPolicy({});
    try {
      const refact = async (reportId: string, sha256: string, raw: Buffer, ip: string, asn: number) => {
        const analysis = await analysisFor(raw, {
          ip,
          asn,
          asName: `NET-${asn}`,
          country: 'FR',
          rdns: null,
          abuse: [],
        });
        const r = await db.selectFrom('reports').select('received_at').where('id', '=', reportId).executeTakeFirst();
        await saveFacts(
          db,
          factsFrom(
            {
              reportId,
              sha256,
              receivedAt: r?.received_at ?? '',
              campaignId: 'camp-b',
              category: 'phishing',
              analysis,
            },
            policy,
          ),
        );
      };
      const raws = new Map<string, Buffer>();
      const ingest = async (n: number) => {
        const raw = spamMessage({
          n,
          ip: `203.0.113.${n}`,
          to: 'someone@victim.example',
          url: `https://s${n % 2}.example/`,
        });
        const s = await ctx.writer.submitOne({ raw, channel: 'api', reporterAddress: 'someone@victim.example' });
        raws.set(s.id, raw);
        await refact(s.id, s.sha256, raw, `203.0.113.${n}`, 64_500 + (n % 3));
        return { reportId: s.id, sha256: s.sha256 };
      };
      const reports = [];
      for (let n = 1; n <= 7; n++) reports.push(await ingest(n));
      const a = await openCase(db, {
        targetKind: 'campaign',
        targetValue: 'camp-b',
        title: 'old case A',
        category: 'phishing',
        openedBy: 'user:test',
      });
      const b = await openCase(db, {
        targetKind: 'sender_domain',
        targetValue: 'old.example',
        title: 'old case B',
        category: 'phishing',
        openedBy: 'user:test',
      });
      await addReportsToCase(db, a.id, reports.slice(0, 6), 'user:test');
      await addReportsToCase(db, b.id, reports.slice(3), 'user:test');
      // As before migration 0180: no tally at all.
      await db.deleteFrom('action_case_tallies').execute();

      // Two steps of case A: four of its six reports counted, the tally not yet visible as built.
      const first = [...reports.slice(0, 6)].map((r) => r.reportId).sort();
      assert.deepEqual(await backfillStep(db, a.id, 2), { reports: 2, built: false });
      assert.deepEqual(await backfillStep(db, a.id, 2), { reports: 2, built: false });
      const mid = await tallyState(db, a.id);
      assert.equal(mid.kind, 'building');
      assert.equal(mid.kind === 'building' ? mid.cursor : '', first[3]);

      // Between steps: a counted report leaves, a counted one is re-analysed, an uncounted one
      // leaves, and a new report joins (its id is after the cursor: the next steps count it).
      await removeReportsFromCase(db, a.id, [first[0], first[5]], 'user:test');
      const moved = reports.find((r) => r.reportId === first[1]);
      assert.ok(moved);
      await refact(moved.reportId, moved.sha256, raws.get(moved.reportId) ?? Buffer.alloc(0), '192.0.2.9', 64_999);
      const late = await ingest(8);
      await addReportsToCase(db, a.id, [late], 'user:test');

      // The rest runs as the service would, a step at a time, every transaction bounded to two reports.
      let steps = 0;
      for (;;) {
        const r = await backfillCaseTallies(db, { reportsPerStep: 2, maxSteps: 1 });
        if (r.done) break;
        assert.ok(r.reports <= 2);
        steps += r.steps;
        assert.ok(steps < 50, 'the backfill ends');
      }
      for (const c of [a.id, b.id]) {
        assert.deepEqual(
          await storedTally(db, c),
          await referenceTally(db, c),
          `case ${c} tallied as its reports group`,
        );
        assert.equal((await tallyState(db, c)).kind, 'built');
      }
      const left = await db
        .selectFrom('action_case_tallies')
        .select('case_id')
        .where('kind', '=', BUILD_KIND)
        .execute();
      assert.equal(left.length, 0, 'no build marker left');
      assert.equal((await caseReportsPage(db, a.id, null)).total, 5);
      assert.deepEqual(await backfillCaseTallies(db), { casesBuilt: 0, steps: 0, reports: 0, done: true });
    } finally {
      await closeContext(ctx);
    }
  });
}

test('[postgres] retention waits for a tally build step of a case it takes reports from, so no count of deleted \
reports is left behind', async (t) => {
  const tdb = await createTestDatabase(t, 'postgres');
  if (!tdb) return;
  const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config), migrate: false });
  const db = ctx.db;
  try {
    const reports: { reportId: string; sha256: string }[] = [];
    for (let n = 1; n <= 3; n++) {
      const raw = spamMessage({ n, ip: `203.0.113.${n}`, to: 'someone@victim.example', url: 'https://s.example/' });
      const s = await ctx.writer.submitOne({ raw, channel: 'api', reporterAddress: 'someone@victim.example' });
      reports.push({ reportId: s.id, sha256: s.sha256 });
    }
    const c = await openCase(db, {
      targetKind: 'sender_domain',
      targetValue: 'old.example',
      title: 'old case',
      category: 'phishing',
      openedBy: 'user:test',
    });
    await addReportsToCase(db, c.id, reports, 'user:test');
    await db.deleteFrom('action_case_tallies').execute();

    // A build step of the case holds its tally lock and has written its build row, not yet committed.
    let stepWrote: () => void = () => {};
    const wrote = new Promise<void>((r) => {
      stepWrote = r;
    });
    let endStep: () => void = () => {};
    const stepMayEnd = new Promise<void>((r) => {
      endStep = r;
    });
    const step = db.transaction().execute(async (trx) => {
      await lockCaseTally(trx, c.id);
      await trx
        .insertInto('action_case_tallies')
        .values({
          case_id: c.id,
          kind: BUILD_KIND,
          value: reports[1].reportId,
          reports: 2,
          asn: null,
          as_name: null,
          country: null,
        })
        .execute();
      stepWrote();
      await stepMayEnd;
    });
    await wrote;

    // Retention deletes one of the case's reports meanwhile: it must wait for the step's lock.
    const retention = deleteReports(db, [reports[0].reportId]);
    let waiting = 0;
    for (let i = 0; i < 150 && waiting === 0; i++) {
      const r = await sql<{ n: string }>`select count(*)::text as n from pg_locks
        where locktype = 'advisory' and not granted
          and database = (select oid from pg_database where datname = current_database())`.execute(db);
      waiting = Number(r.rows[0]?.n ?? 0);
      if (waiting === 0) await new Promise((r) => setTimeout(r, 20));
    }
    endStep();
    await step;
    assert.deepEqual(await retention, { reports: 1, messages: 1 });

    // The step's build row, counting the deleted report, went with the case's other tally rows.
    const rows = await db.selectFrom('action_case_tallies').select('kind').where('case_id', '=', c.id).execute();
    assert.deepEqual(rows, [], 'no tally row of the case survives retention');
    assert.equal((await tallyState(db, c.id)).kind, 'none');
    assert.equal((await caseReportsPage(db, c.id, null)).total, 2);
    assert.equal(waiting, 1, 'retention waited on the case tally lock the build step held');
  } finally {
    await closeContext(ctx);
  }
});
