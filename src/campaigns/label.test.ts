/** Campaign labels: dominant brand, else subject, else sender domain; masked; stable; read from the store. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestDatabase } from '../db/test-databases.ts';
import { CompiledQuery, sql } from 'kysely';
import { campaignLabel, campaignLabels, labelFactsQuery, MAX_LABEL_CHARS } from './label.ts';

const f = (kind: string, value: string, count: number) => ({ kind, value, count });

test('a brand most copies name wins over the subject', () => {
  const facts = [
    f('subject', 'Your account is suspended', 40),
    f('subject', 'Action required on your PayPal account', 30),
    f('sender', 'PayPal Service <service@pp-secure.example>', 70),
  ];
  assert.equal(campaignLabel(facts, 'x'), 'PayPal');
});

test('a brand few copies name is not dominant: the most frequent subject is the label', () => {
  const facts = [
    f('subject', 'Cheap watches for you', 95),
    f('subject', 'Apple watches cheap', 5),
    f('sender', 'Deals <deals@watch.example>', 100),
  ];
  assert.equal(campaignLabel(facts, 'x'), 'Cheap watches for you');
});

test('addresses in a subject are masked and long subjects cut on a word', () => {
  const facts = [f('subject', 'Hello victim@example.org, you won', 3)];
  assert.equal(campaignLabel(facts, 'x'), 'Hello x@redacted.invalid, you won');
  const long = campaignLabel([f('subject', 'word '.repeat(40), 1)], 'x');
  assert.ok(long.length <= MAX_LABEL_CHARS && long.endsWith('…'), long);
});

test('no subject: the sender domain, then an advertised domain, then the fallback', () => {
  assert.equal(
    campaignLabel([f('sender', 'X <a@mail.spam-shop.co.uk>', 2), f('domain', 'shop.example', 9)], 'x'),
    'spam-shop.co.uk',
  );
  assert.equal(campaignLabel([f('domain', 'shop.example', 9)], 'x'), 'shop.example');
  assert.equal(campaignLabel([], 'Campaign 01AB'), 'Campaign 01AB');
});

test('stable: the order facts are read in and equal counts do not change the label', () => {
  const facts = [f('subject', 'Beta offer', 5), f('subject', 'Alpha offer', 5), f('sender', 'a@b.example', 10)];
  const a = campaignLabel(facts, 'x');
  assert.equal(a, 'Alpha offer');
  assert.equal(campaignLabel([...facts].reverse(), 'x'), a);
});

for (const dialect of DIALECTS) {
  test(`${dialect}: labels are read from the story facts, following a merge redirect`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    t.after(() => tdb.drop());
    const { db } = tdb;
    const at = '2026-11-02T10:00:00.000Z';
    const campaign = (id: string, mergedInto: string | null) => ({
      id,
      merged_into: mergedInto,
      category: 'phishing',
      core_signature: null,
      core_kind: null,
      first_seen_at: at,
      last_seen_at: at,
      report_count: 1,
      message_count: 1,
      created_at: at,
      updated_at: at,
    });
    const rows = [
      campaign('01JA0000000000000000000001', null),
      campaign('01JA0000000000000000000002', '01JA0000000000000000000001'),
    ];
    await db.insertInto('campaigns').values(rows).execute();
    await db
      .insertInto('campaign_facts')
      .values([
        {
          campaign_id: rows[0].id,
          kind: 'subject',
          value: 'Votre colis est en attente',
          count: 12,
          first_seen_at: at,
          last_seen_at: at,
        },
        {
          campaign_id: rows[0].id,
          kind: 'sender',
          value: 'Colis <x@parcel.example>',
          count: 12,
          first_seen_at: at,
          last_seen_at: at,
        },
      ])
      .execute();
    const labels = await campaignLabels(db, [rows[0].id, rows[1].id, '01JA0000000000000000000009']);
    assert.equal(labels.get(rows[0].id), 'Votre colis est en attente');
    assert.equal(labels.get(rows[1].id), 'Votre colis est en attente', 'a merged campaign shows the surviving one');
    assert.equal(labels.get('01JA0000000000000000000009'), '01JA00…009');
  });
}

for (const dialect of DIALECTS) {
  test(`${dialect}: a page's labels come from one statement of facts, each as if read alone`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    t.after(() => tdb.drop());
    const { db } = tdb;
    const at = '2026-11-02T10:00:00.000Z';
    // 160 campaigns (more than one statement holds), each with subjects, senders and domains; the
    // first with more subjects than are read per kind, so the limit and its order matter.
    const ids = Array.from({ length: 160 }, (_, i) => `01JB${String(i).padStart(22, '0')}`);
    const facts = ids.flatMap((id, i) =>
      [
        ...Array.from({ length: i === 0 ? 60 : 2 }, (_, k) => ({
          kind: 'subject',
          value: `Offer ${i}-${k}`,
          count: k,
        })),
        { kind: 'sender', value: `News <n@sender${i}.example>`, count: 3 },
        { kind: 'domain', value: `shop${i}.example`, count: 1 },
      ].map((f) => ({ campaign_id: id, ...f, first_seen_at: at, last_seen_at: at })),
    );
    for (let i = 0; i < facts.length; i += 200)
      await db
        .insertInto('campaign_facts')
        .values(facts.slice(i, i + 200))
        .execute();
    const alone = new Map<string, string>();
    for (const id of ids) alone.set(id, (await campaignLabels(db, [id])).get(id) ?? '');
    let statements = 0;
    // Counted as results come back: one per statement executed (query building calls the plugin more).
    const counted = db.withPlugin({
      transformQuery: (args) => args.node,
      transformResult: async (args) => {
        statements++;
        return args.result;
      },
    });
    const page = await campaignLabels(counted, ids.slice(0, 50));
    assert.equal(statements, 2, 'one statement for merge redirects, one for the facts of 50 campaigns');
    statements = 0;
    const all = await campaignLabels(counted, ids);
    assert.equal(statements, 3, '160 campaigns: two statements of facts');
    for (const id of ids) assert.equal(all.get(id), alone.get(id), id);
    for (const id of ids.slice(0, 50)) assert.equal(page.get(id), alone.get(id), id);
    assert.equal(alone.get(ids[0]), 'Offer 0-59');
  });
}

for (const dialect of DIALECTS) {
  test(`${dialect}: a large campaign's label facts are one index range each, never sorted`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    t.after(() => tdb.drop());
    const { db } = tdb;
    const at = '2026-11-02T10:00:00.000Z';
    // One campaign with 20,000 advertised domains (most seen once, as in a large campaign's long
    // tail) among 300 small ones: the shape under which the count-only index left a sort of them all.
    const big = '01JC0000000000000000000000';
    const rows = [
      ...Array.from({ length: 20_000 }, (_, k) => ({
        campaign_id: big,
        kind: 'domain',
        value: `shop${k}.example`,
        count: k < 100 ? 1000 - k : 1,
      })),
      ...Array.from({ length: 300 }, (_, i) => ({
        campaign_id: `01JD${String(i).padStart(22, '0')}`,
        kind: 'subject',
        value: `Offer ${i}`,
        count: 2,
      })),
    ].map((f) => ({ ...f, first_seen_at: at, last_seen_at: at }));
    for (let i = 0; i < rows.length; i += 500)
      await db
        .insertInto('campaign_facts')
        .values(rows.slice(i, i + 500))
        .execute();
    await sql`analyze`.execute(db);
    const q = labelFactsQuery(db, [big, '01JD0000000000000000000001']).compile();
    const prefix = dialect === 'postgres' ? 'explain (format json) ' : 'explain query plan ';
    const plan = JSON.stringify((await db.executeQuery(CompiledQuery.raw(prefix + q.sql, [...q.parameters]))).rows);
    assert.match(plan, /campaign_facts_ranked_idx/, plan);
    assert.doesNotMatch(plan, dialect === 'postgres' ? /"Node Type":"(?:Incremental )?Sort"/ : /TEMP B-TREE/, plan);
    const labels = await campaignLabels(db, [big]);
    assert.equal(labels.get(big), 'shop0.example');
  });
}
