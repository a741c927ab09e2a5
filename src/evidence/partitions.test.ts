/**
 * Monthly partitions of `reports` on the real PostgreSQL (db/partitions.ts, migrations 0230–0231):
 * converting a populated database, look-ups pruned to one partition, report keys kept unique, and
 * retention dropping whole months while keeping the reports referred to an authority.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { ulid } from 'ulid';
import { openDatabase } from '../db/dialect.ts';
import { migrateToLatest, migrateUpTo } from '../db/migrate.ts';
import {
  ensurePartitions,
  isPartitioned,
  listPartitions,
  monthBound,
  type Partition,
  partitionName,
  preparePartitioning,
  REPORT_TABLES,
} from '../db/partitions.ts';
import { createScratchPostgres, PG_ADMIN_URL, postgresUnavailable } from '../db/test-databases.ts';
import { needs } from '../core/test-env.ts';
import { randomSecret, sha256Hex } from '../core/ids.ts';
import { createTestContext, sampleEmail } from '../app/test-context.ts';
import { createAuthority } from '../actions/cases/authorities.ts';
import { addReportsToCase, openCase } from '../actions/cases/cases.ts';
import { referCase } from '../actions/referrals/referrals.ts';
import { dropExpiredPartitions } from './retention.ts';
import { insertReportRows, storeUnits } from './store-units.ts';

const CORPUS = '/work/shared/corpus/spamassassin/spam';
const DAY = 86_400_000;

/** A month `offset` months from now, day `day` (UTC), as ms. */
function inMonth(offset: number, day: number): number {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, day, 12);
}

async function scratchDatabase(t: import('node:test').TestContext) {
  const reason = await postgresUnavailable();
  if (!needs(t, `PostgreSQL at ${PG_ADMIN_URL}`, reason === null, reason ?? '')) return null;
  if (!needs(t, 'the SpamAssassin corpus', fs.existsSync(CORPUS), CORPUS)) return null;
  const scratch = await createScratchPostgres('spamdesk_test_part');
  const db = openDatabase({ dialect: 'postgres', url: scratch.url } as Parameters<typeof openDatabase>[0]);
  t.after(async () => {
    await db.destroy();
    await scratch.drop();
  });
  return db;
}

/** The report index, search terms and action facts rows of one report (as the indexers write them). */
async function insertDerived(db: Kysely<Database>, id: string, sha: string, at: string): Promise<void> {
  await sql`insert into web_report_index (report_id, received_at, channel, kind, message_sha256, stage, updated_at)
    values (${id}, ${at}, 'import', 'email', ${sha}, 1, ${at})`.execute(db);
  for (const term of ['prize', `id:${id.slice(-6).toLowerCase()}`])
    await sql`insert into web_report_terms (term, received_at, report_id) values (${term}, ${at}, ${id})`.execute(db);
  await sql`insert into action_report_facts (report_id, message_sha256, received_at, created_at)
    values (${id}, ${sha}, ${at}, ${at})`.execute(db);
}

/** A report of `id` on stored evidence, with its keys and its per-report rows; returns its tracking token. */
async function insertReport(db: Kysely<Database>, id: string, sha256: string): Promise<string> {
  const token = randomSecret(18);
  const at = new Date().toISOString();
  await insertReportRows(db, [
    {
      id,
      message_sha256: sha256,
      channel: 'api',
      received_at: at,
      quality: 'full',
      dedup_key: null,
      tracking_token: token,
    },
  ]);
  await insertDerived(db, id, sha256, at);
  return token;
}

test('[postgres] converting a populated reports table keeps every row, prunes a by-id look-up to one partition \
and keeps dedup keys and tracking tokens unique', async (t) => {
  const db = await scratchDatabase(t);
  if (!db) return;
  await migrateUpTo(db, '0181_campaign-facts-top');
  // 60 corpus spams reported over the last five months, before report_keys and partitions exist.
  const files = fs.readdirSync(CORPUS).sort().slice(0, 60);
  const rows: { id: string; sha: string; token: string; key: string }[] = [];
  for (const [i, f] of files.entries()) {
    const raw = fs.readFileSync(path.join(CORPUS, f));
    const sha = sha256Hex(raw);
    const at = inMonth(-5 + (i % 5), 1 + (i % 27));
    await db
      .insertInto('messages')
      .values({ sha256: sha, kind: 'email', size: raw.length, codec: 'identity', content: raw, first_seen_at: '' })
      .onConflict((oc) => oc.column('sha256').doNothing())
      .execute();
    const row = { id: ulid(at), sha, token: randomSecret(18), key: `corpus:${f}` };
    rows.push(row);
    await db
      .insertInto('reports')
      .values({
        id: row.id,
        message_sha256: sha,
        channel: 'import',
        received_at: new Date(at - DAY).toISOString(),
        quality: 'full',
        dedup_key: row.key,
        tracking_token: row.token,
        historical: 1,
      })
      .execute();
    await insertDerived(db, row.id, sha, new Date(at).toISOString());
  }
  await migrateUpTo(db, '0230_evidence-report-keys');
  assert.ok(await preparePartitioning(db), 'the online step ran');
  await migrateUpTo(db, '0231_evidence-reports-partitioned');
  // Reports stored between the two conversions, in the monthly partitions of reports.
  for (const [i, r] of rows.slice(0, 3).entries()) {
    const id = ulid(inMonth(0, 1 + i));
    const token = await insertReport(db, id, r.sha);
    rows.push({ id, sha: r.sha, token, key: '' });
  }
  // The per-report tables: the second --prepare validates their bound online, 0275 attaches them.
  assert.ok(await preparePartitioning(db), 'the online step ran for the per-report tables');
  await migrateToLatest(db);
  assert.ok(await isPartitioned(db));
  for (const { table, key } of REPORT_TABLES) {
    assert.ok(await isPartitioned(db, table), `${table} is partitioned`);
    const tparts: Partition[] = await listPartitions(db, table);
    assert.equal(tparts[0].name, `${table}_p_before`);
    assert.ok((tparts[tparts.length - 1].to ?? '') >= monthBound(new Date(), 4), `${table} three months ahead`);
    const n = await sql<{ n: string }>`select count(distinct ${sql.ref(key)}) as n from ${sql.table(table)}`.execute(
      db,
    );
    assert.equal(Number(n.rows[0].n), rows.length, `${table} kept every report's rows`);
    const tplan = (
      await sql<{
        'QUERY PLAN': string;
      }>`explain select * from ${sql.table(table)} where ${sql.ref(key)} = ${rows[7].id}`.execute(db)
    ).rows
      .map((x) => x['QUERY PLAN'])
      .join('\n');
    assert.equal((tplan.match(new RegExp(`on ${table}_p\\w+`, 'g')) ?? []).length, 1, tplan);
  }
  // Rows up to the bound --prepare set (two months ahead) stay in the first partition;
  // the month after it has its own partition.
  const nextId = ulid(inMonth(2, 2));
  await insertDerived(db, nextId, rows[0].sha, new Date().toISOString());
  const month = await sql<{ t: string }>`select tableoid::regclass::text as t from web_report_index
    where report_id = ${nextId}`.execute(db);
  assert.equal(month.rows[0].t, partitionName(new Date(), 2, 'web_report_index'));
  const parts = await listPartitions(db);
  assert.equal(parts[0].name, 'reports_p_before');
  assert.equal(parts[0].from, null);
  const last = parts[parts.length - 1];
  assert.ok(last.to !== null && last.to >= monthBound(new Date(), 4), `three months ahead: ${JSON.stringify(parts)}`);

  assert.equal(
    Number((await sql<{ n: string }>`select count(*) as n from reports`.execute(db)).rows[0].n),
    rows.length,
  );
  for (const r of rows) {
    const got = await db.selectFrom('reports').select(['message_sha256']).where('id', '=', r.id).executeTakeFirst();
    assert.equal(got?.message_sha256, r.sha, `report ${r.id} is found by id`);
  }
  const plan = (
    await sql<{ 'QUERY PLAN': string }>`explain select * from reports where id = ${rows[7].id}`.execute(db)
  ).rows
    .map((x) => x['QUERY PLAN'])
    .join('\n');
  assert.equal((plan.match(/on reports_p\w+/g) ?? []).length, 1, plan);

  // The keys were copied to report_keys; a retried import and a new report go through them.
  const again = await db.transaction().execute((trx) =>
    storeUnits(
      trx,
      [
        {
          items: [
            {
              input: { channel: 'import', dedupKey: rows[3].key } as never,
              message: { sha256: rows[3].sha, size: 1, kind: 'email', codec: 'identity', content: Buffer.alloc(0) },
            },
          ],
        },
      ] as never,
      null,
    ),
  );
  assert.equal(again[0][0].id, rows[3].id, 'the idempotency key still finds the report stored before');
  assert.equal(again[0][0].duplicate, true);
  const track = await db
    .selectFrom('report_keys as k')
    .innerJoin('reports as r', 'r.id', 'k.report_id')
    .select('r.id')
    .where('k.tracking_token', '=', rows[9].token)
    .executeTakeFirst();
  assert.equal(track?.id, rows[9].id);
  await assert.rejects(
    db.insertInto('report_keys').values({ report_id: 'X', dedup_key: rows[1].key, tracking_token: 'y' }).execute(),
    /duplicate key/,
  );
});

test('[postgres] retention drops whole months of reports but keeps the reports referred to an authority', async (t) => {
  const fx = await createTestContext(t, 'postgres', { retentionPartitionMonths: 1 } as never);
  if (!fx) return;
  const { ctx } = fx;
  const { db } = ctx;
  t.after(() => fx.close());
  assert.ok(await isPartitioned(db), 'a fresh install starts partitioned');
  const [stored] = await ctx.writer.submit([{ raw: sampleEmail('current'), channel: 'api' }]);
  // Reports of the next two months (their partitions exist ahead), on the same evidence.
  const ids = { next: [ulid(inMonth(1, 3)), ulid(inMonth(1, 9))], after: ulid(inMonth(2, 3)) };
  for (const id of [...ids.next, ids.after]) {
    await insertReport(db, id, stored.sha256);
  }
  const police = await createAuthority(db, {
    name: 'Police',
    country: 'FR',
    competence: 'cybercrime',
    contactKind: 'email',
    contact: 'cyber@police.example',
  });
  const c = await openCase(db, {
    targetKind: 'sender_domain',
    targetValue: 'spam.example',
    title: 'Prize scam',
    category: 'scam',
    openedBy: 'test',
  });
  await addReportsToCase(db, c.id, [{ reportId: ids.next[1], sha256: stored.sha256 }], 'test');
  await referCase(ctx, c.id, police.id, 'test');

  // Three months on, with one month kept: the first partition and next month's go whole.
  const later = new Date(inMonth(3, 2));
  await ensurePartitions(db, later);
  const run = await dropExpiredPartitions(db, 1, later);
  // Two months of reports; of each per-report table, the month that held rows (an empty one stays).
  assert.deepEqual(
    run.partitions.filter((p) => p.startsWith('reports_')),
    ['reports_p_before', partitionName(new Date(), 1)],
  );
  for (const { table } of REPORT_TABLES)
    assert.ok(run.partitions.includes(partitionName(new Date(), 1, table)), JSON.stringify(run));
  assert.equal(run.reportsDropped, 2);
  assert.equal(run.keptForAuthorities, 1);
  const left = (await db.selectFrom('reports').select('id').orderBy('id').execute()).map((r) => r.id);
  assert.deepEqual(left, [ids.next[1], ids.after], 'the referred report and the month after the cut-off stay');
  assert.equal(
    (await db.selectFrom('report_keys').select('report_id').where('report_id', '=', ids.next[0]).execute()).length,
    0,
  );
  assert.ok(
    (await listPartitions(db)).every((p) => p.to === null || p.to > monthBound(later, -1) || /_k\d+$/.test(p.name)),
  );
  for (const { table } of REPORT_TABLES) {
    const got = await sql<{ id: string }>`select distinct report_id as id from ${sql.table(table)} order by 1`.execute(
      db,
    );
    assert.deepEqual(
      got.rows.map((r) => r.id),
      [ids.next[1], ids.after],
      `${table}: the referred report's rows and the next month's stay`,
    );
  }
  // Run again: nothing more to drop, the referred report's partition stays as it is.
  const second = await dropExpiredPartitions(db, 1, later);
  assert.equal(second.partitions.length, 0);
  // A report stored now still lands in a partition after the swap.
  await ctx.writer.submit([{ raw: sampleEmail('after the swap'), channel: 'api' }]);
});
