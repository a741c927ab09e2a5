/**
 * The workbench index and roll-ups on both databases: reports are picked up, move on as analysis
 * and classification land, roll-ups stay exact through every change, the list pages by keyset
 * without gaps or repeats, search uses the term index, and scopes filter rows.
 */
import { type TestContext, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestDatabase } from '../db/test-databases.ts';
import { ReportWriter } from '../evidence/report-writer.ts';
import { ANALYSER_VERSION, emptySections, type Analysis } from '../analysis/analysis-schema.ts';
import { storeAnalysis } from '../analysis/repository.ts';
import { relabelReport } from '../campaigns/relabel.ts';
import { nowIso } from '../core/ids.ts';
import { sql } from 'kysely';
import {
  ANALYSED_GRACE_MS,
  indexAll,
  indexPass,
  INDEXER_SOURCE,
  STAGE_ANALYSED,
  STAGE_CLASSIFIED,
  STAGE_RAW,
} from './indexer.ts';
import { listDeadLetters, retryDeadLetter } from './dead-letters.ts';
import { dailySeries, listReports, rangeOf, rangeParts, topValues, totalReports, type Cursor } from './queries.ts';
import { sampleSpam } from './test-helpers.ts';
import type { DB } from '../db/dialect.ts';
import type { Config } from '../core/config.ts';

function analysisOf(
  sha256: string,
  opts: { subject: string; ip: string; asn: number; country: string; url: string },
): Analysis {
  const s = emptySections();
  s.parse.subject = opts.subject;
  s.traceback.origin = { ip: opts.ip, hopIndex: 1, ipVersion: 4, reason: 'first untrusted hop' };
  s.enrichment.origin = {
    ip: opts.ip,
    asn: opts.asn,
    asName: 'TEST-AS',
    country: opts.country,
    rdns: null,
    abuseContacts: [],
  };
  const host = new URL(opts.url).hostname;
  s.indicators.urls = [
    {
      raw: opts.url,
      url: opts.url,
      host,
      registrableDomain: host.split('.').slice(-2).join('.'),
      shortener: false,
      source: 'text',
      role: 'link',
      part: 'text',
    },
  ];
  s.indicators.sender.from = 'winner@lottery.example';
  return {
    sha256,
    analyserVersion: ANALYSER_VERSION,
    kind: 'email',
    analysedAt: nowIso(),
    ...s,
    findings: [],
    stages: [],
    error: null,
  };
}

async function rollup(
  db: DB,
  dim: 'category' | 'country' | 'channel' | 'domain' | 'asn',
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const p of await dailySeries(db, dim, rangeOf('2000-01-01', '2100-01-01')))
    out[p.value] = (out[p.value] ?? 0) + p.n;
  return out;
}

/** A test database and a report writer on it, both closed after the test; null when the engine is absent. */
async function writerFixture(
  t: TestContext,
  dialect: (typeof DIALECTS)[number],
): Promise<{ db: DB; writer: ReportWriter; config: Config } | null> {
  const tdb = await createTestDatabase(t, dialect);
  if (!tdb) return null;
  const writer = new ReportWriter(tdb.db);
  t.after(async () => {
    await writer.close();
    await tdb.drop();
  });
  return { db: tdb.db, writer, config: tdb.config };
}

for (const dialect of DIALECTS) {
  test(`report index and roll-ups (${dialect})`, async (t) => {
    const fx = await writerFixture(t, dialect);
    if (!fx) return;
    const { db, writer } = fx;

    const stored = await writer.submit(
      Array.from({ length: 120 }, (_, i) => ({
        raw: sampleSpam({ subject: i % 2 === 0 ? `Even prize ${i}` : `Odd offer ${i}` }),
        channel: i % 3 === 0 ? ('smtp' as const) : ('web' as const),
        receivedAt: new Date(Date.UTC(2026, 10, 1 + (i % 20), 12, 0, i)).toISOString(),
        reporterUserId: null,
      })),
    );

    await t.test('new reports are indexed from their headers, counted once per channel', async () => {
      assert.equal(await indexAll(db), 120);
      assert.equal(await indexAll(db), 0, 'a second pass has nothing to do');
      const row = await db
        .selectFrom('web_report_index')
        .selectAll()
        .where('report_id', '=', stored[1].id)
        .executeTakeFirstOrThrow();
      assert.equal(row.stage, STAGE_RAW);
      assert.equal(row.subject, 'Odd offer 1');
      assert.equal(row.sender_domain, 'lottery.example');
      assert.deepEqual(await rollup(db, 'channel'), { smtp: 40, web: 80 });
      assert.deepEqual(await rollup(db, 'category'), { '': 120 });
    });

    await t.test('an analysis moves a report to the analysed stage and its roll-ups move with it', async () => {
      await storeAnalysis(
        db,
        analysisOf(stored[0].sha256, {
          subject: 'Even prize 0',
          ip: '203.0.113.7',
          asn: 64500,
          country: 'NL',
          url: 'https://pay.evil-bank.example/login',
        }),
        1,
      );
      await indexAll(db);
      const row = await db
        .selectFrom('web_report_index')
        .selectAll()
        .where('report_id', '=', stored[0].id)
        .executeTakeFirstOrThrow();
      assert.equal(row.stage, STAGE_ANALYSED);
      assert.equal(row.origin_asn, 64500);
      assert.equal(row.origin_country, 'NL');
      const countries = await rollup(db, 'country');
      assert.equal(countries.NL, 1);
      assert.equal(countries[''], 119);
      assert.deepEqual(await rollup(db, 'domain'), { 'evil-bank.example': 1 });
      const top = await topValues(db, 'asn', rangeOf('2000-01-01', '2100-01-01'));
      assert.deepEqual(top, [{ value: '64500', n: 1 }]);
    });

    await t.test('an origin on the receiving side is nobody’s network: no origin, AS or country indexed', async () => {
      const inside = analysisOf(stored[2].sha256, {
        subject: 'Even prize 2',
        ip: '65.23.81.140',
        asn: 26554,
        country: 'US',
        url: 'https://pay.evil-bank.example/login',
      });
      inside.traceback.flags = ['origin-inside-receiver'];
      inside.indicators.urls = [];
      await storeAnalysis(db, inside, 1);
      await indexAll(db);
      const row = await db
        .selectFrom('web_report_index')
        .selectAll()
        .where('report_id', '=', stored[2].id)
        .executeTakeFirstOrThrow();
      assert.equal(row.stage, STAGE_ANALYSED);
      assert.deepEqual([row.origin_ip, row.origin_asn, row.origin_country], [null, null, null]);
      assert.equal((await rollup(db, 'country')).US, undefined);
      assert.deepEqual(await topValues(db, 'asn', rangeOf('2000-01-01', '2100-01-01')), [{ value: '64500', n: 1 }]);
    });

    await t.test('classification and a relabel move the category roll-up without double counting', async () => {
      await db
        .insertInto('classifications')
        .values({
          sha256: stored[0].sha256,
          category: 'phishing',
          confidence: 0.9,
          reasons: '[]',
          model_version: 'test',
          classified_at: nowIso(),
        })
        .execute();
      await indexAll(db);
      let row = await db
        .selectFrom('web_report_index')
        .selectAll()
        .where('report_id', '=', stored[0].id)
        .executeTakeFirstOrThrow();
      assert.equal(row.stage, STAGE_CLASSIFIED);
      assert.deepEqual(await rollup(db, 'category'), { '': 119, phishing: 1 });
      await relabelReport(db, stored[0].id, 'scam', 'user:test:analyst');
      const { indexReports } = await import('./indexer.ts');
      await indexReports(db, [stored[0].id]);
      row = await db
        .selectFrom('web_report_index')
        .selectAll()
        .where('report_id', '=', stored[0].id)
        .executeTakeFirstOrThrow();
      assert.equal(row.category, 'scam');
      assert.deepEqual(await rollup(db, 'category'), { '': 119, scam: 1 });
    });

    await t.test('totals and top tables over long ranges (monthly rows) match the daily rows', async () => {
      assert.equal(await totalReports(db, rangeOf('2026-01-01', '2026-12-31')), 120);
      for (const [from, to] of [
        ['2026-11-05', '2026-11-20'],
        ['2026-10-15', '2026-12-02'],
        ['2026-11-01', '2026-11-30'],
      ]) {
        const r = rangeOf(from, to);
        const daily = (await dailySeries(db, 'channel', r)).reduce((n, p) => n + p.n, 0);
        assert.equal(await totalReports(db, r), daily, `${from}..${to}`);
      }
      assert.deepEqual(rangeParts({ from: '2026-01-15', to: '2026-04-10' }), {
        days: [
          ['2026-01-15', '2026-01-31'],
          ['2026-04-01', '2026-04-10'],
        ],
        months: ['2026-02', '2026-03'],
      });
      assert.deepEqual(rangeParts({ from: '2026-02-01', to: '2026-02-28' }), {
        days: [],
        months: ['2026-02', '2026-02'],
      });
      assert.deepEqual(rangeParts({ from: '2026-02-03', to: '2026-02-20' }), {
        days: [['2026-02-03', '2026-02-20']],
        months: null,
      });
    });

    await t.test('keyset paging walks every report once, newest first', async () => {
      const seen: string[] = [];
      let cursor: Cursor | null = null;
      let prev = '\uffff';
      for (let pages = 0; pages < 10; pages++) {
        const page = await listReports(db, { kind: 'all' }, {}, cursor, 50);
        for (const r of page.rows) {
          const key = `${r.received_at}|${r.report_id}`;
          assert.ok(key < prev, 'strictly descending');
          prev = key;
          seen.push(r.report_id);
        }
        if (!page.next) break;
        cursor = page.next;
      }
      assert.equal(seen.length, 120);
      assert.equal(new Set(seen).size, 120);
    });

    await t.test('search by subject words, sender, URL domain and IP uses the term index, with paging', async () => {
      const even = [];
      let cursor: Cursor | null = null;
      do {
        const page = await listReports(db, { kind: 'all' }, { q: 'even prize' }, cursor, 25);
        even.push(...page.rows);
        cursor = page.next;
      } while (cursor);
      assert.equal(even.length, 60);
      assert.ok(even.every((r) => r.subject?.startsWith('Even prize')));
      assert.equal((await listReports(db, { kind: 'all' }, { domain: 'evil-bank.example' }, null)).rows.length, 1);
      assert.equal((await listReports(db, { kind: 'all' }, { ip: '203.0.113.7' }, null)).rows.length, 1);
      assert.equal(
        (await listReports(db, { kind: 'all' }, { sender: 'lottery.example', channel: 'smtp' }, null, 200)).rows.length,
        40,
      );
      assert.equal((await listReports(db, { kind: 'all' }, { category: 'scam' }, null)).rows.length, 1);
      assert.equal(
        (await listReports(db, { kind: 'all' }, { from: '2026-11-01', to: '2026-11-01' }, null)).rows.length,
        6,
      );
    });

    await t.test('scopes: network operators see their networks only, reporters their own reports only', async () => {
      assert.equal((await listReports(db, { kind: 'networks', asns: [64500] }, {}, null)).rows.length, 1);
      assert.equal((await listReports(db, { kind: 'networks', asns: [64999] }, {}, null)).rows.length, 0);
      assert.equal((await listReports(db, { kind: 'own', userId: 'nobody', tokenId: null }, {}, null)).rows.length, 0);
      assert.equal((await listReports(db, { kind: 'none' }, {}, null)).rows.length, 0);
    });

    await t.test(
      'an operator of several networks pages through all of them, newest first, without gaps or repeats',
      async () => {
        // Spread the index rows over three networks (the roll-ups are not read here).
        const ids = (await db.selectFrom('web_report_index').select('report_id').orderBy('report_id').execute()).map(
          (r) => r.report_id,
        );
        for (const [i, id] of ids.entries())
          await db
            .updateTable('web_report_index')
            .set({ origin_asn: 64600 + (i % 4) })
            .where('report_id', '=', id)
            .execute();
        const scope = { kind: 'networks', asns: [64600, 64601, 64602] } as const;
        const seen: string[] = [];
        let prev = '\uffff';
        let cursor: Cursor | null = null;
        do {
          const page = await listReports(db, scope, {}, cursor, 7);
          for (const r of page.rows) {
            const key = `${r.received_at}|${r.report_id}`;
            assert.ok(key < prev, 'strictly descending');
            prev = key;
            assert.notEqual(r.origin_asn, 64603);
            seen.push(r.report_id);
          }
          cursor = page.next;
        } while (cursor);
        assert.equal(seen.length, 90);
        assert.equal(new Set(seen).size, 90);
        assert.equal((await listReports(db, scope, { asn: 'AS64601' }, null, 100)).rows.length, 30);
        assert.equal(
          (await listReports(db, scope, { asn: '64603' }, null, 100)).rows.length,
          0,
          'a filter cannot leave the scope',
        );
      },
    );
  });
}

for (const dialect of DIALECTS) {
  test(`statistics count old mail on the day it arrived, not the day it was imported (${dialect})`, async (t) => {
    const fx = await writerFixture(t, dialect);
    if (!fx) return;
    const { db, writer } = fx;
    const [old, fresh] = await writer.submit([
      {
        raw: sampleSpam({ subject: 'From the 2003 archive' }),
        channel: 'import',
        historical: true,
        receivedAt: '2026-11-20T09:00:00.000Z',
      },
      { raw: sampleSpam({ subject: 'Reported today' }), channel: 'web', receivedAt: '2026-11-20T09:00:00.000Z' },
    ]);
    const a = analysisOf(old.sha256, {
      subject: 'From the 2003 archive',
      ip: '203.0.113.9',
      asn: 64500,
      country: 'NL',
      url: 'https://old.example/',
    });
    a.parse.date = { raw: 'Tue, 14 Oct 2003 08:12:00 +0200', iso: '2003-10-14T06:12:00.000Z' };
    a.traceback.hops = [
      {
        index: 0,
        raw: 'from relay by mx',
        fromHelo: null,
        fromRdns: null,
        fromIp: '203.0.113.9',
        byHost: 'mx.example',
        protocol: 'SMTP',
        tls: null,
        id: null,
        for: null,
        date: '2003-10-14T06:13:05.000Z',
        parsed: true,
        trusted: false,
        notes: [],
      },
    ];
    await storeAnalysis(db, a, 1);
    await indexAll(db);
    const row = await db
      .selectFrom('web_report_index')
      .select(['arrived_at', 'received_at'])
      .where('report_id', '=', old.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { arrived_at: '2003-10-14T06:13:05.000Z', received_at: '2026-11-20T09:00:00.000Z' });
    assert.equal(
      await totalReports(db, rangeOf('2003-10-14', '2003-10-14')),
      1,
      'counted on the day its receiver wrote it down',
    );
    assert.equal(
      await totalReports(db, rangeOf('2026-11-20', '2026-11-20')),
      1,
      'the import day shows only the live report',
    );
    const freshRow = await db
      .selectFrom('web_report_index')
      .select('arrived_at')
      .where('report_id', '=', fresh.id)
      .executeTakeFirstOrThrow();
    assert.equal(freshRow.arrived_at, '2026-11-20T09:00:00.000Z', 'not analysed yet: counted when reported');
  });
}

for (const dialect of DIALECTS) {
  test(`a report committed after the watermark passed its id is indexed and counted once (${dialect})`, async (t) => {
    const fx = await writerFixture(t, dialect);
    if (!fx) return;
    const { db, writer } = fx;
    const when = '2026-11-20T09:00:00.000Z';
    const [late, early] = await writer.submit([
      { raw: sampleSpam({ subject: 'Committed late' }), channel: 'web', receivedAt: when },
      { raw: sampleSpam({ subject: 'Committed first' }), channel: 'web', receivedAt: when },
    ]);
    assert.ok(late.id < early.id, 'ids in order of submission');
    // As if `late`'s transaction (its id made first) committed only after the indexer ran: the
    // row is taken out while the indexer passes it, then comes back as a late commit would.
    const row = await db.selectFrom('reports').selectAll().where('id', '=', late.id).executeTakeFirstOrThrow();
    await db.deleteFrom('reports').where('id', '=', late.id).execute();
    await indexAll(db);
    assert.equal(await totalReports(db, rangeOf('2026-11-20', '2026-11-20')), 1);
    await db.insertInto('reports').values(row).execute();
    await indexAll(db);
    const indexed = await db.selectFrom('web_report_index').select('report_id').orderBy('report_id').execute();
    assert.deepEqual(
      indexed.map((r) => r.report_id),
      [late.id, early.id],
    );
    assert.equal(await totalReports(db, rangeOf('2026-11-20', '2026-11-20')), 2, 'each counted once');
    await indexAll(db);
    assert.equal(await totalReports(db, rangeOf('2026-11-20', '2026-11-20')), 2, 'a second look counts nothing twice');
  });
  test(`an index pass with nothing to do writes nothing (${dialect})`, async (t) => {
    // Each write outside a transaction is a commit (an fsync on SQLite); the service runs a pass
    // every few hundred ms while reports arrive, so an idle pass must not rewrite its cursor.
    const fx = await writerFixture(t, dialect);
    if (!fx) return;
    const { db, writer } = fx;
    const [r] = await writer.submit([{ raw: sampleSpam({ subject: 'Waiting' }), channel: 'web' }]);
    await indexAll(db);
    const writes = async (): Promise<string> =>
      dialect === 'sqlite'
        ? String((await sql<{ n: number }>`select total_changes() as n`.execute(db)).rows[0].n)
        : (
            await sql<{
              x: string;
            }>`select string_agg(key || ':' || xmin::text, ',' order by key) as x from web_state`.execute(db)
          ).rows[0].x;
    const before = await writes();
    assert.equal(await indexPass(db, { lateCheck: 'always' }), 0);
    assert.equal(await indexPass(db, { lateCheck: 'always' }), 0);
    assert.equal(await writes(), before, 'the passes wrote no row');
    const row = await db
      .selectFrom('web_report_index')
      .select('stage')
      .where('report_id', '=', r.id)
      .executeTakeFirst();
    assert.equal(row?.stage, STAGE_RAW, 'the report still waits for its analysis');
  });

  test(`written at arrival and when classified; the analysed-only row only when late (${dialect})`, async (t) => {
    const fx = await writerFixture(t, dialect);
    if (!fx) return;
    const { db, writer } = fx;
    const [prompt, late] = await writer.submit([
      { raw: sampleSpam({ subject: 'Prompt one' }), channel: 'web' },
      { raw: sampleSpam({ subject: 'Late one' }), channel: 'web' },
    ]);
    assert.equal(await indexPass(db, { lateCheck: 'always' }), 2, 'both appear at arrival');
    const a = (sha256: string, subject: string, country: string, analysedAt: string): Analysis => ({
      ...analysisOf(sha256, { subject, ip: '203.0.113.9', asn: 64501, country, url: 'https://x.evil-shop.example/' }),
      analysedAt,
    });
    await storeAnalysis(db, a(prompt.sha256, 'Prompt one', 'DE', nowIso()), 1);
    const longAgo = new Date(Date.now() - 2 * ANALYSED_GRACE_MS).toISOString();
    await storeAnalysis(db, a(late.sha256, 'Late one', 'FR', longAgo), 1);
    assert.equal(await indexPass(db), 1, 'only the report analysed long ago is written analysed-only');
    const stageOf = async (id: string) =>
      (await db.selectFrom('web_report_index').select('stage').where('report_id', '=', id).executeTakeFirstOrThrow())
        .stage;
    assert.equal(await stageOf(prompt.id), STAGE_RAW, 'the fresh analysis waits for its classification');
    assert.equal(await stageOf(late.id), STAGE_ANALYSED);
    assert.equal(await indexPass(db), 0, 'nothing moved: nothing written');
    for (const r of [prompt, late])
      await db
        .insertInto('classifications')
        .values({
          sha256: r.sha256,
          category: 'scam',
          confidence: 0.8,
          reasons: '[]',
          model_version: 'test',
          classified_at: nowIso(),
        })
        .execute();
    assert.equal(await indexPass(db), 2);
    assert.equal(await stageOf(prompt.id), STAGE_CLASSIFIED, 'from arrival straight to classified');
    assert.equal(await stageOf(late.id), STAGE_CLASSIFIED);
    assert.equal(await indexAll(db), 0);
    // The roll-ups are those of the final rows only, whatever path each report took.
    assert.deepEqual(await rollup(db, 'category'), { scam: 2 });
    assert.deepEqual(await rollup(db, 'country'), { DE: 1, FR: 1 });
    assert.deepEqual(await rollup(db, 'domain'), { 'evil-shop.example': 2 });
    const terms = await db
      .selectFrom('web_report_terms')
      .select('term')
      .where('report_id', '=', prompt.id)
      .where('term', 'like', 'i:%')
      .execute();
    assert.deepEqual(
      terms.map((x) => x.term),
      ['i:203.0.113.9'],
    );
  });
}

/** Base64 encoded-word: how a Subject carries bytes the header line itself could not. */
function encodedWord(text: string): string {
  return `=?utf-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

for (const dialect of DIALECTS) {
  test(`a report whose Subject holds NUL and a lone surrogate is stored, indexed and found, and later reports still \
appear (${dialect})`, async (t) => {
    const fx = await writerFixture(t, dialect);
    if (!fx) return;
    const { db, writer } = fx;
    const poisoned = await writer.submitOne({
      raw: sampleSpam({ subject: encodedWord('Jackpot\0 claim now') }),
      channel: 'web',
    });
    await indexAll(db);
    let row = await db
      .selectFrom('web_report_index')
      .select(['subject', 'stage'])
      .where('report_id', '=', poisoned.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.subject, 'Jackpot\uFFFD claim now', 'indexed from its headers, NUL replaced');
    // The analysis stage stores the decoded subject (the analyses table has a subject column too).
    await storeAnalysis(
      db,
      analysisOf(poisoned.sha256, {
        subject: 'Jackpot\0 \uD800 claim now',
        ip: '203.0.113.7',
        asn: 64500,
        country: 'NL',
        url: 'https://jackpot.example/',
      }),
      1,
    );
    await indexAll(db);
    row = await db
      .selectFrom('web_report_index')
      .select(['subject', 'stage'])
      .where('report_id', '=', poisoned.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.stage, STAGE_ANALYSED);
    assert.equal(row.subject, 'Jackpot\uFFFD \uFFFD claim now');
    const later = await writer.submitOne({ raw: sampleSpam({ subject: 'Reported afterwards' }), channel: 'web' });
    await indexAll(db);
    const listed = (await listReports(db, { kind: 'all' }, {}, null)).rows.map((r) => r.report_id);
    assert.deepEqual(listed.sort(), [poisoned.id, later.id].sort());
    assert.deepEqual(
      (await listReports(db, { kind: 'all' }, { q: 'jackpot' }, null)).rows.map((r) => r.report_id),
      [poisoned.id],
    );
    // A filter parameter holding NUL is compared, not refused.
    assert.deepEqual(
      (await listReports(db, { kind: 'all' }, { q: 'jackpot\0' }, null)).rows.map((r) => r.report_id),
      [poisoned.id],
    );
  });

  test(`a report that cannot be indexed is parked with its reason and the next reports are indexed \
(${dialect})`, async (t) => {
    const fx = await writerFixture(t, dialect);
    if (!fx) return;
    const { db, writer } = fx;
    const [first, bad, third] = await writer.submit(
      ['First', 'Poisoned', 'Third'].map((s) => ({ raw: sampleSpam({ subject: s }), channel: 'web' as const })),
    );
    // A stored analysis the indexer cannot read (as a bug in any stage could leave behind).
    await db
      .insertInto('analyses')
      .values({
        message_sha256: bad.sha256,
        version: ANALYSER_VERSION,
        analysed_at: nowIso(),
        duration_ms: 1,
        error: null,
        json: '{"truncated',
        subject: null,
        from_address: null,
        from_domain: null,
        origin_ip: null,
        origin_asn: null,
        origin_country: null,
      })
      .execute();
    assert.equal(await indexAll(db), 3, 'two indexed, one parked; the pass ends');
    const indexed = (await db.selectFrom('web_report_index').select('report_id').execute()).map((r) => r.report_id);
    assert.deepEqual(indexed.sort(), [first.id, third.id].sort());
    const open = await listDeadLetters(db, 'open', null);
    assert.equal(open.rows.length, 1);
    assert.equal(open.rows[0].source, INDEXER_SOURCE);
    assert.equal(open.rows[0].origin, `report:${bad.id}`);
    assert.match(open.rows[0].reason, /^indexing failed: the stored analysis of message [0-9a-f]{64} cannot be read/);
    const later = await writer.submitOne({ raw: sampleSpam({ subject: 'Later' }), channel: 'web' });
    assert.equal(await indexAll(db), 1);
    assert.ok(
      await db.selectFrom('web_report_index').select('report_id').where('report_id', '=', later.id).executeTakeFirst(),
      'a later report is indexed',
    );
    assert.equal((await listDeadLetters(db, 'open', null)).rows.length, 1, 'parked once');

    // Retried from the dead letters while still broken: refused with the new reason, parked anew.
    assert.equal(open.rows[0].notRetryable, null, 'a parked report is offered a retry');
    const refused = await retryDeadLetter(db, writer, open.rows[0].id, 'user:test');
    assert.equal(refused.stored, false);
    const reopened = await listDeadLetters(db, 'open', null);
    assert.equal(reopened.rows.length, 1);
    assert.notEqual(reopened.rows[0].id, open.rows[0].id);
    // Mended (the analysis stored again), a retry indexes it and closes the letter.
    await db.deleteFrom('analyses').where('message_sha256', '=', bad.sha256).execute();
    const ok = await retryDeadLetter(db, writer, reopened.rows[0].id, 'user:test');
    assert.deepEqual(ok, { stored: true, reportId: bad.id, duplicate: false, reindexed: true });
    assert.equal((await listDeadLetters(db, 'open', null)).rows.length, 0);
    assert.ok(
      await db.selectFrom('web_report_index').select('report_id').where('report_id', '=', bad.id).executeTakeFirst(),
      'the report is in the index',
    );
    assert.equal(await indexAll(db), 0, 'and nothing is left for the passes');
  });
}

for (const dialect of DIALECTS) {
  test(`${dialect}: indexers on two connections re-indexing the same reports at once count each report once, and \
never deadlock`, async (t) => {
    const fx = await writerFixture(t, dialect);
    if (!fx) return;
    const { db, writer } = fx;
    const { openDatabase } = await import('../db/dialect.ts');
    const { indexReports } = await import('./indexer.ts');
    const stored = await writer.submit(
      Array.from({ length: 60 }, (_, i) => ({
        raw: sampleSpam({ subject: `Offer ${i}` }),
        channel: 'web' as const,
        receivedAt: new Date(Date.UTC(2026, 10, 1 + (i % 5), 12, 0, i)).toISOString(),
        reporterUserId: null,
      })),
    );
    assert.equal(await indexAll(db), 60);
    await db
      .insertInto('classifications')
      .values(
        stored.map((s) => ({
          sha256: s.sha256,
          category: 'commercial',
          confidence: 0.9,
          reasons: '[]',
          model_version: 'test',
          classified_at: nowIso(),
        })),
      )
      .execute();
    // A second connection pool, as a second process has. (Two SQLite connections on one thread
    // would wait on each other synchronously; across processes BEGIN IMMEDIATE serialises them.)
    const other = dialect === 'postgres' ? openDatabase(fx.config.database) : db;
    if (other !== db) t.after(() => other.destroy());
    const ids = stored.map((s) => s.id);
    const reversed = [...ids].reverse();
    const errors: unknown[] = [];
    await Promise.all(
      [
        indexReports(db, ids),
        indexReports(other, reversed),
        indexReports(other, ids.slice(10, 50)),
        indexReports(db, reversed.slice(5, 45)),
      ].map((p) => p.catch((e: unknown) => errors.push(e))),
    );
    assert.deepEqual(errors, []);
    const parked = await db.selectFrom('dead_letters').select('reason').execute();
    assert.deepEqual(parked, [], 'nothing failed (no deadlock, no duplicate key)');
    const categories = await rollup(db, 'category');
    assert.equal(categories.commercial, 60, JSON.stringify(categories));
    assert.ok(!categories[''], `no report left (or counted below zero) as unclassified: ${JSON.stringify(categories)}`);
    assert.equal((await rollup(db, 'channel')).web, 60);
  });
}
