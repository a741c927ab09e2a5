/**
 * Conversion of a populated `reports` to partitions (0230, --prepare, 0231), then of its per-report
 * tables (index row, two search terms, action facts per report: --prepare again, 0275): times and
 * a by-id EXPLAIN before/after. Usage: node --import tsx bench/partition-convert.ts [rows]
 */
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase } from '../src/db/dialect.ts';
import { migrateToLatest, migrateUpTo } from '../src/db/migrate.ts';
import { preparePartitioning } from '../src/db/partitions.ts';
const N = Number(process.argv[2] ?? 1000000);
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
await admin.connect();
await admin.query('drop database if exists spamdesk_part20_measure');
await admin.query('create database spamdesk_part20_measure');
await admin.end();
const db = openDatabase({
  dialect: 'postgres',
  url: 'postgres://postgres@127.0.0.1:5432/spamdesk_part20_measure',
} as never);
await migrateUpTo(db, '0181_campaign-facts-top');
await sql`insert into messages (sha256, kind, size, codec, content, first_seen_at)
  values (repeat('a',64),'email',1,'identity','\\x00','')`.execute(db);
// ULID-shaped ids over the last 12 months: 10 time chars (ms, Crockford base32) + 16 random chars.
await sql
  .raw(`create function pg_temp.b32(v bigint, n int) returns text language sql as $$
  select string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', ((v >> (5*(n-1-i))) & 31)::int + 1, 1), '' order by i)
  from generate_series(0, n-1) i $$`)
  .execute(db);
let t = Date.now();
await sql
  .raw(`insert into reports (id, message_sha256, channel, received_at, quality, dedup_key, tracking_token)
  select pg_temp.b32(${Date.now()} - (g::bigint * 31536000000 / ${N}), 10) || lpad(g::text, 16, '0'),
    repeat('a',64), 'api', now()::text, 'full', 'k' || g, 't' || g from generate_series(1, ${N}) g`)
  .execute(db);
console.log('insert', N, Date.now() - t, 'ms');
t = Date.now();
await sql`insert into web_report_index (report_id, received_at, channel, kind, message_sha256, stage, updated_at)
  select id, received_at, 'api', 'email', message_sha256, 1, received_at from reports`.execute(db);
await sql`insert into web_report_terms (term, received_at, report_id)
  select w, received_at, id from reports, unnest(array['prize', 'w:' || substr(id, 20)]) w`.execute(db);
await sql`insert into action_report_facts (report_id, message_sha256, received_at, created_at)
  select id, message_sha256, received_at, received_at from reports`.execute(db);
console.log('insert per-report rows', Date.now() - t, 'ms');
await sql`analyze reports`.execute(db);
const id = (await sql<{ id: string }>`select id from reports offset ${Math.floor(N / 2)} limit 1`.execute(db)).rows[0]
  .id;
const explain = async () =>
  (
    await sql<{ 'QUERY PLAN': string }>`explain (analyze, buffers off) select * from reports where id = ${id}`.execute(
      db,
    )
  ).rows
    .map((r) => r['QUERY PLAN'])
    .filter((l) => /Planning|Execution|Scan/.test(l))
    .join(' | ');
for (let i = 0; i < 3; i++) await explain();
console.log('before:', await explain());
t = Date.now();
await migrateUpTo(db, '0230_evidence-report-keys');
console.log('0230 (report_keys backfill)', Date.now() - t, 'ms');
t = Date.now();
await preparePartitioning(db);
console.log('prepare (online)', Date.now() - t, 'ms');
t = Date.now();
await migrateUpTo(db, '0231_evidence-reports-partitioned');
console.log('0231 (exclusive lock)', Date.now() - t, 'ms');
t = Date.now();
await preparePartitioning(db);
console.log('prepare the per-report tables (online)', Date.now() - t, 'ms');
t = Date.now();
await migrateToLatest(db);
console.log('0275 (exclusive locks)', Date.now() - t, 'ms');
await sql`analyze reports`.execute(db);
for (let i = 0; i < 3; i++) await explain();
console.log('after:', await explain());
await db.destroy();
const a2 = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
await a2.connect();
await a2.query('drop database spamdesk_part20_measure with (force)');
await a2.end();
