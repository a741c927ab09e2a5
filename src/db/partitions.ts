/**
 * Monthly partitions of `reports` on PostgreSQL (SQLite stays one table), by **id range**.
 *
 * Report ids are ULIDs made when the report is stored (core/ids.ts): their first ten characters
 * are the creation time, so the ids of one calendar month (UTC) are one range between two ULID
 * prefixes. Partitioning by `id` keeps `id` the primary key (unique across partitions), prunes
 * every look-up by id to one partition, and keeps the foreign keys from `reports` valid. The keys
 * that must stay unique but are not the partition key (`dedup_key`, `tracking_token`) live in
 * `report_keys` (migration 0230). A report is never created before it is received (historical
 * imports keep an older `received_at`), so a partition whose whole id range is older than a
 * cut-off holds only reports received before it: retention can drop it whole
 * (evidence/retention.ts), once the rows it must keep are moved into a fresh partition.
 *
 * The first partition, `reports_p_before`, is the table that existed before the conversion, from
 * MINVALUE to the month its CHECK allowed; then one partition per month. There is no default
 * partition: a report whose month has no partition fails to store, loudly; the `partitions`
 * singleton keeps {@link MONTHS_AHEAD} months ahead.
 *
 * The tables that hold rows per report and grow with them ({@link REPORT_TABLES}: the report
 * index, its search terms, the action facts) are partitioned the same way by `report_id`
 * (migration 0275), with the same monthly bounds and names (`web_report_index_p202607`), so a
 * look-up by report id is pruned to one partition in each and retention drops a month of all of
 * them together. Their first partition (`…_p_before`) is the table as it was, up to the month
 * after their conversion: later than `reports_p_before`'s bound when 0275 runs after 0231, so
 * until retention reaches that month it deletes their rows of dropped reports one by one.
 * `analyses` is per message (one row per message and analyser version, shared by every report
 * of that message), not per report: it is not partitioned by report month, and loses its rows
 * with the evidence no report points at.
 */
import { sql, type Kysely } from 'kysely';
import { encodeTime } from 'ulid';
import { dialectOf } from './dialect.ts';

/** The partitioned table. */
export const PARTITIONED = 'reports';
/** The first partition: the table as it was before the conversion. */
export const FIRST_PARTITION = 'reports_p_before';
/** The CHECK constraint `spamdesk db partition --prepare` validates online before the conversion. */
export const BOUND_CONSTRAINT = 'reports_id_bound';
/** A table partitioned by month of report id: its name and the column holding the report id. */
export interface PartitionedTable {
  table: string;
  key: string;
}
/** The per-report tables partitioned like `reports` (0275), in the order retention swaps them. */
export const REPORT_TABLES: readonly PartitionedTable[] = [
  { table: 'web_report_index', key: 'report_id' },
  { table: 'web_report_terms', key: 'report_id' },
  { table: 'action_report_facts', key: 'report_id' },
];
/** Every partitioned table, `reports` first. */
export const ALL_PARTITIONED: readonly PartitionedTable[] = [{ table: PARTITIONED, key: 'id' }, ...REPORT_TABLES];

/** Months of partitions kept ready after the current one. */
export const MONTHS_AHEAD = 3;

/** The first ULID of the UTC month `offset` months after the month of `at`. */
export function monthBound(at: Date, offset = 0): string {
  const ms = Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + offset, 1);
  return encodeTime(ms, 10) + '0'.repeat(16);
}

/** `reports_p202607` (or `<table>_p202607`) for the month starting at `at` (UTC). */
export function partitionName(at: Date, offset = 0, table = PARTITIONED): string {
  const d = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + offset, 1));
  return `${table}_p${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** Quotes an identifier made by this module (names are checked, never taken from input). */
function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unexpected identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** A ULID bound as a SQL literal (checked: Crockford base32 only). */
function boundLiteral(bound: string): string {
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(bound)) throw new Error(`not a ULID bound: ${JSON.stringify(bound)}`);
  return `'${bound}'`;
}

export interface Partition {
  name: string;
  /** Inclusive lower bound; null for MINVALUE. */
  from: string | null;
  /** Exclusive upper bound; null for MAXVALUE. */
  to: string | null;
}

/** Whether `reports` (or `table`) is a partitioned table (always false on SQLite). */
export async function isPartitioned<T>(db: Kysely<T>, table = PARTITIONED): Promise<boolean> {
  if (dialectOf(db) !== 'postgres') return false;
  const r = await sql<{ relkind: string }>`select c.relkind from pg_class c
    where c.oid = to_regclass(${table})`.execute(db);
  return r.rows[0]?.relkind === 'p';
}

/** The partitions of `reports` (or `table`), in id order. */
export async function listPartitions<T>(db: Kysely<T>, table = PARTITIONED): Promise<Partition[]> {
  const r = await sql<{ name: string; bound: string }>`select c.relname as name,
      pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = to_regclass(${table})`.execute(db);
  const out = r.rows.map((row) => {
    const m = /FROM \((.+)\) TO \((.+)\)/.exec(row.bound);
    if (!m) throw new Error(`partition ${row.name} is not a range partition: ${row.bound}`);
    const val = (s: string): string | null => (/^(MINVALUE|MAXVALUE)$/.test(s) ? null : s.replace(/^'|'$/g, ''));
    return { name: row.name, from: val(m[1]), to: val(m[2]) };
  });
  return out.sort((a, b) => (a.from === null ? -1 : b.from === null ? 1 : a.from < b.from ? -1 : 1));
}

/**
 * Creates the monthly partitions missing from the current month to {@link MONTHS_AHEAD} after it,
 * in every partitioned table (idempotent; two processes racing fail one `create` harmlessly).
 * Returns the names created.
 */
export async function ensurePartitions<T>(db: Kysely<T>, now = new Date(), ahead = MONTHS_AHEAD): Promise<string[]> {
  const created: string[] = [];
  for (const { table } of ALL_PARTITIONED) {
    if (!(await isPartitioned(db, table))) continue;
    let covered = (await listPartitions(db, table)).reduce<string>(
      (max, p) => (p.to !== null && p.to > max ? p.to : max),
      '',
    );
    for (let m = 0; m <= ahead; m++) {
      const hi = monthBound(now, m + 1);
      if (hi <= covered) continue;
      const lo = covered > monthBound(now, m) ? covered : monthBound(now, m);
      const name = partitionName(now, m, table);
      await sql
        .raw(
          `create table if not exists ${ident(name)} partition of ${ident(table)} ` +
            `for values from (${boundLiteral(lo)}) to (${boundLiteral(hi)})`,
        )
        .execute(db);
      created.push(name);
      covered = hi;
    }
  }
  return created;
}

/** The CHECK `--prepare` validates on `table` (`reports_id_bound`, `web_report_index_id_bound`…). */
function boundConstraint(table: string): string {
  return table === PARTITIONED ? BOUND_CONSTRAINT : `${table}_id_bound`;
}

/** The bound of a validated `…_id_bound` CHECK (from `--prepare`), or null. */
async function preparedBound<T>(db: Kysely<T>, table = PARTITIONED): Promise<string | null> {
  const r = await sql<{ def: string; validated: boolean }>`select pg_get_constraintdef(oid) as def,
      convalidated as validated
    from pg_constraint where conname = ${boundConstraint(table)} and conrelid = to_regclass(${table})`.execute(db);
  const row = r.rows[0];
  if (!row?.validated) return null;
  return /'([0-9A-Z]{26})'/.exec(row.def)?.[1] ?? null;
}

/** The index names of `reports` that the conversion keeps on the first partition and the parent. */
const INDEXES: ReadonlyArray<[name: string, columns: string]> = [
  ['reports_message_idx', 'message_sha256'],
  ['reports_received_idx', 'received_at'],
  ['reports_reporter_idx', 'reporter_user_id, received_at'],
  ['reports_channel_idx', 'channel, received_at'],
];

/**
 * Turns the plain `reports` table into a partitioned one, the old table becoming its first
 * partition (no row is copied). Run by migration 0231 inside its transaction, so everything here
 * holds an exclusive lock on `reports` until commit: it only renames, attaches and adopts
 * indexes, except the CHECK that lets ATTACH skip its scan: when `--prepare` did not validate it
 * beforehand (online), it is validated here, scanning the table under the lock.
 */
export async function convertToPartitioned<T>(db: Kysely<T>, now = new Date()): Promise<void> {
  if (dialectOf(db) !== 'postgres' || (await isPartitioned(db))) return;
  const run = (q: string) => sql.raw(q).execute(db);
  let bound = await preparedBound(db);
  if (bound === null) {
    bound = monthBound(now, 1);
    await run(`alter table reports drop constraint if exists ${BOUND_CONSTRAINT}`);
    await run(`alter table reports add constraint ${BOUND_CONSTRAINT} check (id < ${boundLiteral(bound)})`);
  }
  // Foreign keys onto reports(id) would block detaching a month whose reports are still
  // referenced (retention deletes the referencing rows itself, evidence/retention.ts).
  const fks = await sql<{ table: string; name: string }>`select conrelid::regclass::text as table, conname as name
    from pg_constraint where contype = 'f' and confrelid = to_regclass('reports')`.execute(db);
  for (const fk of fks.rows) await run(`alter table ${ident(fk.table)} drop constraint ${ident(fk.name)}`);
  // Foreign keys from reports: re-made on the parent, which adopts the first partition's.
  const own = await sql<{ name: string; def: string }>`select conname as name, pg_get_constraintdef(oid) as def
    from pg_constraint where contype = 'f' and conrelid = to_regclass('reports')`.execute(db);
  // Unique keys other than the id now live in report_keys (0230).
  const uniques = await sql<{ name: string }>`select conname as name from pg_constraint
    where contype = 'u' and conrelid = to_regclass('reports')`.execute(db);
  for (const u of uniques.rows) await run(`alter table reports drop constraint ${ident(u.name)}`);

  await run(`alter table reports rename to ${FIRST_PARTITION}`);
  await run(`alter index reports_pkey rename to ${FIRST_PARTITION}_pkey`);
  for (const [name] of INDEXES)
    await run(`alter index if exists ${name} rename to ${name.replace(/^reports_/, `${FIRST_PARTITION}_`)}`);
  for (const fk of own.rows)
    await run(`alter table ${FIRST_PARTITION} rename constraint ${ident(fk.name)} to ${ident(`${fk.name}_p0`)}`);

  await run(`create table reports (like ${FIRST_PARTITION} including defaults) partition by range (id)`);
  await run(
    `alter table reports attach partition ${FIRST_PARTITION} for values from (minvalue) to (${boundLiteral(bound)})`,
  );
  await run(`alter table ${FIRST_PARTITION} drop constraint ${BOUND_CONSTRAINT}`);
  await run('alter table reports add constraint reports_pkey primary key (id)');
  for (const [name, columns] of INDEXES) await run(`create index ${name} on reports (${columns})`);
  for (const fk of own.rows) await run(`alter table reports add constraint ${ident(fk.name)} ${fk.def}`);
  await ensurePartitions(db, now);
}

/**
 * Turns one per-report table ({@link REPORT_TABLES}) into a table partitioned by month of its
 * report id, the same way as {@link convertToPartitioned}: the table as it was becomes its first
 * partition (`<table>_p_before`, no row copied), its primary key and indexes are re-made on the
 * parent from their definitions, which adopts the first partition's (no index is built), and
 * the foreign keys onto it are dropped (retention deletes referencing rows itself). Run by
 * migration 0275 inside its transaction: only catalogue changes happen under the exclusive lock,
 * except validating the id-bound CHECK when `--prepare` did not do it online beforehand.
 */
export async function convertReportTable<T>(db: Kysely<T>, spec: PartitionedTable, now = new Date()): Promise<void> {
  if (dialectOf(db) !== 'postgres' || (await isPartitioned(db, spec.table))) return;
  const run = (q: string) => sql.raw(q).execute(db);
  const table = ident(spec.table);
  const first = `${spec.table}_p_before`;
  const check = ident(boundConstraint(spec.table));
  let bound = await preparedBound(db, spec.table);
  if (bound === null) {
    bound = monthBound(now, 1);
    await run(`alter table ${table} drop constraint if exists ${check}`);
    await run(`alter table ${table} add constraint ${check} check (${ident(spec.key)} < ${boundLiteral(bound)})`);
  }
  const fks = await sql<{ table: string; name: string }>`select conrelid::regclass::text as table, conname as name
    from pg_constraint where contype = 'f' and confrelid = to_regclass(${spec.table})`.execute(db);
  for (const fk of fks.rows) await run(`alter table ${ident(fk.table)} drop constraint ${ident(fk.name)}`);
  const constraints = await sql<{ name: string; def: string; type: string }>`select conname as name,
      pg_get_constraintdef(oid) as def, contype as type
    from pg_constraint where contype in ('p', 'u', 'f') and conrelid = to_regclass(${spec.table})`.execute(db);
  // Plain indexes (those of constraints come back with their constraint).
  const indexes = await sql<{ name: string; def: string }>`select i.indexname as name, i.indexdef as def
    from pg_indexes i where i.schemaname = current_schema() and i.tablename = ${spec.table}
      and not exists (select 1 from pg_constraint c where c.conname = i.indexname
        and c.conrelid = to_regclass(${spec.table}))`.execute(db);

  await run(`alter table ${table} rename to ${ident(first)}`);
  for (const c of constraints.rows)
    await run(`alter table ${ident(first)} rename constraint ${ident(c.name)} to ${ident(`${c.name}_p0`)}`);
  for (const i of indexes.rows) await run(`alter index ${ident(i.name)} rename to ${ident(`${i.name}_p0`)}`);

  await run(`create table ${table} (like ${ident(first)} including defaults) partition by range (${ident(spec.key)})`);
  await run(
    `alter table ${table} attach partition ${ident(first)} for values from (minvalue) to (${boundLiteral(bound)})`,
  );
  await run(`alter table ${ident(first)} drop constraint ${check}`);
  // Key constraints first: their index on the parent adopts the partition's.
  for (const c of constraints.rows.filter((x) => x.type !== 'f'))
    await run(`alter table ${table} add constraint ${ident(c.name)} ${c.def}`);
  for (const i of indexes.rows) await run(i.def);
  for (const c of constraints.rows.filter((x) => x.type === 'f'))
    await run(`alter table ${table} add constraint ${ident(c.name)} ${c.def}`);
  await ensurePartitions(db, now);
}

/**
 * The online half of the conversion, run before the upgrade that applies 0231 (`spamdesk db
 * partition --prepare`), each statement in its own transaction while writers continue: copies the
 * report keys a node running the previous release stored without them, then adds the CHECK that
 * every id is below the first ULID of the month after next and validates it (a scan under a lock
 * that lets writes continue). The migration must then run before that month begins: past it, new
 * reports fail the CHECK. Returns the bound.
 */
export async function preparePartitioning<T>(db: Kysely<T>, now = new Date()): Promise<string | null> {
  if (dialectOf(db) !== 'postgres') return null;
  const bound = monthBound(now, 2);
  const run = (q: string) => sql.raw(q).execute(db);
  let prepared = false;
  for (const spec of ALL_PARTITIONED) {
    if (!(await sql<{ t: string | null }>`select to_regclass(${spec.table})::text as t`.execute(db)).rows[0]?.t)
      continue;
    if (await isPartitioned(db, spec.table)) continue;
    if (spec.table === PARTITIONED)
      await sql`insert into report_keys (report_id, dedup_key, tracking_token)
        select r.id, r.dedup_key, r.tracking_token from reports r
        where not exists (select 1 from report_keys k where k.report_id = r.id)
        on conflict do nothing`.execute(db);
    const table = ident(spec.table);
    const check = ident(boundConstraint(spec.table));
    await run(`alter table ${table} drop constraint if exists ${check}`);
    await run(
      `alter table ${table} add constraint ${check} check (${ident(spec.key)} < ${boundLiteral(bound)}) not valid`,
    );
    await run(`alter table ${table} validate constraint ${check}`);
    prepared = true;
  }
  return prepared ? bound : null;
}

/**
 * Replaces a partition by one holding only the rows `keepOf` names (ids inside its range), in one
 * short transaction: a fresh table gets the kept rows, the old partition is detached and dropped,
 * the fresh one attached for the same range (the scan ATTACH makes is of the kept rows only).
 * Returns the number of rows dropped.
 */
export async function dropPartitionKeeping<T>(
  db: Kysely<T>,
  part: Partition,
  keepOf: (trx: Kysely<T>) => Promise<readonly string[]>,
  spec: PartitionedTable = ALL_PARTITIONED[0],
): Promise<number> {
  const name = ident(part.name);
  const parent = ident(spec.table);
  const next = `${part.name.replace(/_k\d+$/, '')}_k${Date.now() % 1_000_000}`;
  const from = part.from === null ? 'minvalue' : boundLiteral(part.from);
  const to = part.to === null ? 'maxvalue' : boundLiteral(part.to);
  return db.transaction().execute(async (trx) => {
    const run = (q: string) => sql.raw(q).execute(trx);
    const total = await sql<{ n: string }>`select count(*) as n from ${sql.table(part.name)}`.execute(trx);
    // Read inside the transaction that swaps, so a report referred meanwhile is not lost.
    const keep = await keepOf(trx);
    await run(`create table ${ident(next)} (like ${parent} including defaults)`);
    for (let i = 0; i < keep.length; i += 500)
      await sql`insert into ${sql.table(next)} select * from ${sql.table(part.name)}
        where ${sql.ref(spec.key)} in (${sql.join(keep.slice(i, i + 500))})`.execute(trx);
    await run(`alter table ${parent} detach partition ${name}`);
    await run(`drop table ${name}`);
    await run(`alter table ${parent} attach partition ${ident(next)} for values from (${from}) to (${to})`);
    const kept = await sql<{ n: string }>`select count(*) as n from ${sql.table(next)}`.execute(trx);
    return Number(total.rows[0].n) - Number(kept.rows[0].n);
  });
}
