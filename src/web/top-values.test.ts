/**
 * The threshold algorithm's top-N equals the plain sum's, value for value and in the same order,
 * on both databases: steep and flat distributions, ties, values active only some days, zero rows
 * left by deltas, ranges from one day to over a year, and answers from 1 to 50 rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestDatabase } from '../db/test-databases.ts';
import { mulberry32 } from '../core/prng.ts';
import { monthlyDim } from './indexer.ts';
import { blocksOf, rangeParts, topValues, topValuesBySum, type TopPlan } from './top-values.ts';

const DAY = 86_400_000;
const START = Date.UTC(2025, 9, 1);
const DAYS = 420;

test('the blocks of a range cover each day exactly once', () => {
  for (const [from, to] of [
    ['2026-01-01', '2026-01-31'],
    ['2025-11-24', '2026-11-23'],
    ['2026-02-10', '2026-02-12'],
    ['2026-02-28', '2026-03-01'],
    ['2025-12-01', '2026-02-28'],
  ]) {
    const blocks = blocksOf('campaign', { from, to });
    const days: string[] = [];
    for (const b of blocks) {
      if (b.dim === 'campaign') days.push(b.key);
      else
        for (let t = Date.parse(`${b.key}-01T00:00:00Z`); new Date(t).toISOString().startsWith(b.key); t += DAY)
          days.push(new Date(t).toISOString().slice(0, 10));
    }
    const expected: string[] = [];
    for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY)
      expected.push(new Date(t).toISOString().slice(0, 10));
    assert.deepEqual(days.sort(), expected, `${from}..${to}`);
    assert.ok(rangeParts({ from, to }));
  }
});

for (const dialect of DIALECTS) {
  test(`top-N by threshold equals top-N by sum (${dialect})`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    const { db } = tdb;
    t.after(() => tdb.drop());
    const rand = mulberry32(7);
    // campaign: steep (Zipf-like), bursty; domain: flat with many ties; asn: a few values.
    const rows = new Map<string, number>();
    const add = (dim: string, day: string, value: string, n: number) => {
      for (const [d, k] of [
        [dim, day],
        [monthlyDim(dim as 'campaign'), day.slice(0, 7)],
      ]) {
        const key = `${d}|${k}|${value}`;
        rows.set(key, (rows.get(key) ?? 0) + n);
      }
    };
    for (let i = 0; i < DAYS; i++) {
      const day = new Date(START + i * DAY).toISOString().slice(0, 10);
      for (let c = 0; c < 400; c++) {
        const active = c < 20 || (c * 7 + i) % 37 < 3;
        if (!active) continue;
        const n = Math.floor(200 / (c + 1) + rand() * 3);
        if (n > 0) add('campaign', day, `C${c}`, n);
      }
      for (let d = 0; d < 60; d++) if (rand() < 0.3) add('domain', day, `d${d}.example`, 1 + Math.floor(rand() * 2));
      for (let a = 0; a < 4; a++) add('asn', day, String(64500 + a), 5);
      add('campaign', day, '', 50); // unknown: never ranked
      add('domain', day, 'zero.example', 0); // a row a delta brought back to zero
    }
    const entries = [...rows].map(([k, n]) => {
      const [dim, day, value] = k.split('|');
      return { dim, day, value, n };
    });
    for (let i = 0; i < entries.length; i += 500)
      await db
        .insertInto('web_rollup_daily')
        .values(entries.slice(i, i + 500))
        .execute();

    const ranges: [string, string][] = [
      ['2026-11-23', '2026-11-23'],
      ['2026-10-25', '2026-11-23'],
      ['2025-11-24', '2026-11-23'],
      ['2025-10-01', '2026-11-24'],
      ['2026-02-27', '2026-04-02'],
      ['2027-01-01', '2027-02-01'],
    ];
    for (let i = 0; i < 8; i++) {
      const a = Math.floor(rand() * DAYS);
      const b = Math.min(DAYS - 1, a + Math.floor(rand() * 200));
      ranges.push([
        new Date(START + a * DAY).toISOString().slice(0, 10),
        new Date(START + b * DAY).toISOString().slice(0, 10),
      ]);
    }
    const plans: Record<string, TopPlan['kind'][]> = { campaign: [], domain: [], asn: [] };
    for (const dim of ['campaign', 'domain', 'asn'] as const) {
      for (const [from, to] of ranges) {
        for (const limit of [1, 3, 10, 50]) {
          const r = { from, to };
          assert.deepEqual(
            await topValues(db, dim, r, limit, (p) => plans[dim].push(p.kind)),
            await topValuesBySum(db, dim, r, limit),
            `${dim} ${from}..${to} top ${limit}`,
          );
        }
      }
    }
    // The steep distribution is answered by the threshold algorithm, not by falling back to the sum.
    assert.ok(
      plans.campaign.every((k) => k === 'threshold'),
      plans.campaign.join(','),
    );
    assert.equal(
      await topValues(db, 'campaign', { from: '2025-11-24', to: '2026-11-23' }, 500, (p) =>
        plans.campaign.push(p.kind),
      ).then((x) => x.length),
      400,
    );
    assert.equal(plans.campaign.at(-1), 'sum', 'long exports use the plain sum');
  });
}
