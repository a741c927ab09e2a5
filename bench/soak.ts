/**
 * The long-run soak on PostgreSQL (issue 20, item 5): bench/web.ts's generated reports (the same
 * skewed year: Zipf campaigns, networks, domains, words; volume growing ×3) written into a fresh,
 * fully indexed PostgreSQL database — every index the migrations make stays in place, so each
 * chunk pays the B-tree maintenance a live instance pays — in transactions of 20,000 reports
 * (messages, reports, index rows, search terms). Prints the ingest rate of each million (or each
 * tenth, below ten million) with the load average and the database size, and at each such step
 * (SPAMDESK_BENCH_SOAK_MEASURE=end: only at the end) refreshes the roll-ups and campaign facts,
 * analyzes, and runs bench/web.ts's page queries (list, filters, searches, operator scopes,
 * dashboard, campaign, statistics), printing their p50/p99 against the 200 ms target. Every report
 * gets its report keys, index row, search terms and action facts (bench/web.ts writePgChunk), so
 * the per-report tables partitioned like `reports` grow with it.
 *
 * This measures the storage side (rows and indexes at scale), not analysis: the corpus stream
 * through the whole pipeline is `npm run bench -- scale`.
 *
 *   SPAMDESK_BENCH_WEB_REPORTS=10000000 SPAMDESK_BENCH_SOAK_NAME=mine npm run bench -- soak
 *
 * The database is `spamdesk_bench_soak_<SPAMDESK_BENCH_SOAK_NAME or the count>`, kept afterwards.
 * SPAMDESK_BENCH_SOAK_REUSE=1 writes nothing: it migrates the kept database to this tree's schema
 * and runs the page queries on it again (a query or index change measured at size without the load).
 */
import os from 'node:os';
import pg from 'pg';
import { sql } from 'kysely';
import type { Bench } from './registry.ts';
import type { Client } from 'pg';
import { mb, row, sampleRss } from './lib.ts';
import { CHUNK, REPORTS, START, generator, measure, type GeneratedRow, writePgChunk } from './web.ts';
import {
  ALL_PARTITIONED,
  MONTHS_AHEAD,
  ensurePartitions,
  isPartitioned,
  listPartitions,
  monthBound,
} from '../src/db/partitions.ts';
import type { DB } from '../src/db/dialect.ts';
import { openDatabase } from '../src/db/dialect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { PG_ADMIN_URL, postgresUnavailable } from '../src/db/test-databases.ts';

const say = (s: string) => process.stdout.write(`${s}\n`);

export const soakBench: Bench = {
  name: 'soak',
  description:
    `PostgreSQL soak: ${REPORTS.toLocaleString('en')} generated reports into a fully indexed database ` +
    '(ingest rate per million), then the web page queries (SPAMDESK_BENCH_WEB_REPORTS sets the count)',
  async run() {
    const problem = await postgresUnavailable();
    if (problem) {
      say(`SKIP soak: PostgreSQL at ${PG_ADMIN_URL} does not answer (${problem})`);
      return;
    }
    const suffix = (process.env.SPAMDESK_BENCH_SOAK_NAME ?? String(REPORTS)).toLowerCase().replace(/[^a-z0-9_]/g, '_');
    const name = `spamdesk_bench_soak_${suffix}`;
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    if (process.env.SPAMDESK_BENCH_SOAK_REUSE === '1') {
      const kept = openDatabase({ dialect: 'postgres', url: url.toString() });
      try {
        const n = await sql<{ n: string }>`select count(*) as n from reports`.execute(kept);
        const rows = Number(n.rows[0].n);
        say(`${name} kept with ${rows.toLocaleString('en')} reports: the page queries only`);
        await measure(kept, `PostgreSQL at ${rows.toLocaleString('en')}`, sampleRss(), rows);
      } finally {
        await kept.destroy();
      }
      return;
    }
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
    await admin.end();
    const kdb = openDatabase({ dialect: 'postgres', url: url.toString() });
    await migrateToLatest(kdb);
    const layout = process.env.SPAMDESK_BENCH_SOAK_PARTITIONS === 'one' ? 'one' : 'monthly';
    if (layout === 'monthly') await partitionLikeAYear(kdb);
    await kdb.destroy();

    const step = REPORTS >= 10_000_000 ? 1_000_000 : Math.max(CHUNK, Math.floor(REPORTS / 10 / CHUNK) * CHUNK);
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    // A bulk load: commits need not wait for the WAL flush (a crash loses the last chunks of a bench).
    await client.query('set synchronous_commit = off');
    const gen = generator();
    const seen = new Set<string>();
    const widths = [12, 12, 12, 18, 12];
    say(
      `${REPORTS.toLocaleString('en')} reports into ${name}, every index in place, ` +
        `${layout === 'monthly' ? 'one partition per month of the generated year' : 'all in one partition'}; ` +
        `${os.cpus().length} cores`,
    );
    say(row(['reports', 'reports/s', 'step (s)', 'load (1/5/15)', 'db size'], widths));
    const budgetMs = Number(process.env.SPAMDESK_BENCH_SOAK_MINUTES ?? 0) * 60_000;
    const rates: number[] = [];
    const everyStep = process.env.SPAMDESK_BENCH_SOAK_MEASURE !== 'end';
    let written = 0;
    const started = performance.now();
    let stepStart = performance.now();
    try {
      for (let base = 0; base < REPORTS; base += CHUNK) {
        const rows: GeneratedRow[] = [];
        for (let i = base; i < Math.min(REPORTS, base + CHUNK); i++) rows.push(gen.row(i));
        await writePgChunk(client, rows, seen);
        const done = Math.min(REPORTS, base + CHUNK);
        written = done;
        if (done % step === 0 || done === REPORTS) {
          const secs = (performance.now() - stepStart) / 1000;
          const n = done % step === 0 ? step : done % step;
          rates.push(n / secs);
          const size = await client.query<{ s: string }>('select pg_database_size(current_database()) as s');
          say(
            row(
              [
                done.toLocaleString('en'),
                (n / secs).toFixed(0),
                secs.toFixed(1),
                os
                  .loadavg()
                  .map((l) => l.toFixed(1))
                  .join(' '),
                mb(Number(size.rows[0].s)),
              ],
              widths,
            ),
          );
          if (everyStep && done < REPORTS) {
            await writeRollups(client, gen);
            await client.query('delete from campaign_facts');
            await client.query('analyze');
            const pdb = openDatabase({ dialect: 'postgres', url: url.toString() });
            try {
              await measure(pdb, `PostgreSQL at ${done.toLocaleString('en')}`, sampleRss(), done);
            } finally {
              await pdb.destroy();
            }
          }
          stepStart = performance.now();
          if (budgetMs > 0 && performance.now() - started > budgetMs) {
            say(`time budget (SPAMDESK_BENCH_SOAK_MINUTES) spent: stopping at ${done.toLocaleString('en')} reports`);
            break;
          }
        }
      }
      await writeRollups(client, gen);
      const total = (performance.now() - started) / 1000;
      const first = rates[0];
      const lastRate = rates[rates.length - 1];
      say(
        `ingest: ${written.toLocaleString('en')} in ${total.toFixed(0)} s (${(written / total).toFixed(0)}/s); ` +
          `first step ${first.toFixed(0)}/s, last ${lastRate.toFixed(0)}/s ` +
          `(${((lastRate / first - 1) * 100).toFixed(0)} %)`,
      );
      // Autovacuum would do this soon after a load; without the visibility map index-only scans visit the heap.
      const t0 = performance.now();
      await client.query('delete from campaign_facts');
      await client.query('vacuum analyze');
      say(
        `vacuum analyze ${((performance.now() - t0) / 1000).toFixed(0)} s; load ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
      );
    } finally {
      await client.end();
    }
    const pdb = openDatabase({ dialect: 'postgres', url: url.toString() });
    try {
      await measure(pdb, `PostgreSQL at ${written.toLocaleString('en')}`, sampleRss(), written);
    } finally {
      await pdb.destroy();
    }
    say(
      `load average after the queries ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; database ${name} kept`,
    );
  },
};

/** The daily and monthly roll-ups of the reports written so far (as web/rollups.ts keeps them), replaced whole. */
async function writeRollups(client: Client, gen: ReturnType<typeof generator>): Promise<void> {
  const roll = [...gen.rollup].map(([k, n]) => [...k.split('\u0000'), n] as [string, string, string, number]);
  await client.query('begin');
  await client.query('delete from web_rollup_daily');
  await client.query(
    'insert into web_rollup_daily (dim, day, value, n) select * from unnest($1::text[], $2::text[], ' +
      '$3::text[], $4::int[])',
    [roll.map((x) => x[0]), roll.map((x) => x[1]), roll.map((x) => x[2]), roll.map((x) => x[3])],
  );
  await client.query(
    "insert into web_rollup_daily (dim, day, value, n) select dim || ':m', substr(day, 1, 7), value, sum(n) " +
      "from web_rollup_daily where dim not like '%:m' group by dim, substr(day, 1, 7), value",
  );
  await client.query('commit');
}

/**
 * The partitions of an instance that has run through the generated year: a fresh database has its
 * first partition (`…_p_before`) up to the month of its migration and months from then on, so the
 * whole year would land in `_p_before`, one partition growing to the full count. A live instance
 * has stored each month into that month's partition (the `partitions` singleton makes them ahead),
 * so its indexes grow a month at a time. Here, on the empty tables: the months the migration made are
 * dropped, `_p_before` is bounded at the year's first month, and one partition per month is made from
 * there to {@link MONTHS_AHEAD} after the current month.
 */
async function partitionLikeAYear(db: DB): Promise<void> {
  const first = new Date(START);
  for (const { table } of ALL_PARTITIONED) {
    if (!(await isPartitioned(db, table))) continue;
    for (const p of await listPartitions(db, table)) {
      if (p.from === null) {
        await sql.raw(`alter table ${table} detach partition ${p.name}`).execute(db);
        await sql
          .raw(`alter table ${table} attach partition ${p.name} for values from (minvalue) to ('${monthBound(first)}')`)
          .execute(db);
      } else {
        await sql.raw(`drop table ${p.name}`).execute(db);
      }
    }
  }
  const now = new Date();
  const months = (now.getUTCFullYear() - first.getUTCFullYear()) * 12 + now.getUTCMonth() - first.getUTCMonth();
  const made = await ensurePartitions(db, first, months + MONTHS_AHEAD);
  say(
    `partitions: ${made.length} monthly partitions from ${first.toISOString().slice(0, 7)} ` +
      `(${ALL_PARTITIONED.length} tables)`,
  );
}
