/**
 * Placement under concurrency on a real PostgreSQL: the same stream of reports placed by one
 * connection in order, and by five connection pools at once (as five processes would), gives the
 * same campaigns, with no deadlock. (On SQLite writers take turns by construction: BEGIN IMMEDIATE.)
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createTestContext } from '../app/test-context.ts';
import { analyse } from '../analysis/analyse.ts';
import { offlinePorts } from '../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../analysis/settings.ts';
import { createClassifier } from '../analysis/classify/classify.ts';
import type { Analysis } from '../analysis/analysis-schema.ts';
import { openDatabase, type DB } from '../db/dialect.ts';
import { processReport } from './service.ts';

const FAMILIES = [
  (n: number) =>
    `Congratulations! You have won the international lottery draw number ${n}. To claim your prize of five ` +
    `hundred thousand euros, contact our agent with your name, address and bank details at ` +
    `https://claim-prize-office.com/form?id=${n} today.`,
  (n: number) =>
    `Your parcel ${n} could not be delivered because the customs fee was not paid. Pay the remaining fee of ` +
    `1.99 EUR within 48 hours at https://parcel-fee-redelivery.example/pay/${n} or the parcel is returned.`,
  (n: number) =>
    `Dear customer ${n}, your bank account has been suspended after unusual activity. Confirm your identity ` +
    `now at https://secure-bank-verify.example/login?c=${n} to restore access to your online banking.`,
];

function message(family: number, n: number): Buffer {
  return Buffer.from(
    [
      `From: "Desk ${family}" <desk${family}@sender${family}.example>`,
      'To: you@example.org',
      `Subject: Notice ${family}-${n}`,
      'Date: Mon, 5 Jan 2026 10:00:00 +0000',
      `Message-ID: <${family}-${n}@sender${family}.example>`,
      '',
      FAMILIES[family](n),
      '',
    ].join('\r\n'),
  );
}

interface Item {
  raw: Buffer;
  analysis: Analysis;
}

/** Stores the stream's reports in a fresh database, then places them; returns the campaigns as sets of messages. */
async function place(t: TestContext, items: Item[], pools: number): Promise<string[] | null> {
  const h = await createTestContext(t, 'postgres');
  if (!h) return null;
  t.after(() => h.close());
  const stored = await h.ctx.writer.submit(
    items.map((i, k) => ({
      raw: i.raw,
      channel: 'api' as const,
      receivedAt: new Date(Date.UTC(2026, 0, 5, 11, 0, k)).toISOString(),
      reporterUserId: null,
    })),
  );
  const dbs: DB[] = [h.ctx.db];
  for (let i = 1; i < pools; i++) {
    const db = openDatabase(h.tdb.config.database, { poolSize: 2 });
    t.after(() => db.destroy());
    dbs.push(db);
  }
  const classifier = createClassifier();
  const errors: unknown[] = [];
  await Promise.all(
    dbs.map(async (db, p) => {
      for (let k = p; k < items.length; k += pools) {
        try {
          await processReport(
            db,
            classifier,
            {
              reportId: stored[k].id,
              sha256: stored[k].sha256,
              seenAt: `2026-01-05T10:00:${String(k % 60).padStart(2, '0')}.000Z`,
            },
            items[k].analysis,
            async () => undefined,
          );
        } catch (e) {
          errors.push(e);
        }
      }
    }),
  );
  assert.deepEqual(errors, [], 'no placement failed (no deadlock)');
  const rows = await h.ctx.db
    .selectFrom('campaign_messages as m')
    .innerJoin('campaigns as c', 'c.id', 'm.campaign_id')
    .select(['m.sha256', 'm.campaign_id', 'c.merged_into'])
    .execute();
  const groups = new Map<string, string[]>();
  for (const r of rows) {
    const root = r.merged_into ?? r.campaign_id;
    groups.set(root, [...(groups.get(root) ?? []), r.sha256]);
  }
  const live = await h.ctx.db.selectFrom('campaigns').select('id').where('merged_into', 'is', null).execute();
  assert.equal(live.length, groups.size, 'every live campaign holds messages');
  // Twins founded at once and merged later would leave merged campaigns behind: there must be none.
  const all = await h.ctx.db.selectFrom('campaigns').select('id').execute();
  return [`${all.length} campaigns`, ...[...groups.values()].map((g) => g.sort().join(',')).sort()];
}

test('postgres: one stream placed by one connection and by five pools at once gives the same campaigns', async (t) => {
  // In family order: the pools start on the same family at the same moment, the race this guards.
  const items: Item[] = [];
  for (let f = 0; f < FAMILIES.length; f++)
    for (let n = 0; n < 10; n++) {
      const raw = message(f, n);
      items.push({ raw, analysis: await analyse(raw, { ports: offlinePorts(), settings: defaultAnalysisSettings() }) });
    }
  const serial = await place(t, items, 1);
  if (!serial) return;
  assert.equal(serial[0], `${FAMILIES.length} campaigns`);
  assert.equal(serial.length, FAMILIES.length + 1, 'each family is one campaign');
  for (let round = 0; round < 2; round++) {
    const concurrent = await place(t, items, 5);
    assert.deepEqual(concurrent, serial);
  }
});
