/** `migrate`, `db partition`, `stats`, `verify`. */
import type { Command } from 'commander';
import { configFrom, withSettings } from '../options.ts';
import { openDatabase } from '../../db/dialect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { verifyEvidence } from '../../evidence/store.ts';
import { collectStats } from '../../db/stats.ts';
import { ensurePartitions, isPartitioned, listPartitions, preparePartitioning } from '../../db/partitions.ts';

export function registerMaintenance(program: Command): void {
  withSettings(program.command('migrate').description('Apply pending database migrations.')).action(
    async (_o, cmd: Command) => {
      const config = configFrom(cmd);
      const db = openDatabase(config.database, { synchronous: config.sqliteSynchronous });
      try {
        const res = await migrateToLatest(db);
        const applied = (res.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
        process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Database is up to date.\n');
      } finally {
        await db.destroy();
      }
    },
  );

  const dbCmd = program
    .command('db')
    .description(
      'PostgreSQL partitions of reports: list them, create those ahead, or --prepare the conversion online.',
    );
  withSettings(
    dbCmd
      .command('partition')
      .description(
        'Without option: create the monthly partitions missing ahead and list them. --prepare (before the upgrade ' +
          'that partitions reports or the per-report tables): copy missing report keys and validate the id bound ' +
          'online.',
      ),
  )
    .option('--prepare', 'run the online steps before the conversion migration')
    .action(async (o: { prepare?: boolean }, cmd: Command) => {
      const config = configFrom(cmd);
      if (config.database.dialect !== 'postgres') {
        process.stdout.write('SQLite keeps reports in one table: nothing to do.\n');
        return;
      }
      const db = openDatabase(config.database);
      try {
        if (o.prepare) {
          const bound = await preparePartitioning(db);
          process.stdout.write(
            bound === null
              ? 'reports and the per-report tables are partitioned already.\n'
              : `Prepared: every report id (in reports and the per-report tables not partitioned yet) is below \
${bound}; run \`spamdesk migrate\` before that month begins.\n`,
          );
          return;
        }
        if (!(await isPartitioned(db))) {
          process.stdout.write('reports is not partitioned yet (`spamdesk migrate` converts it).\n');
          process.exitCode = 1;
          return;
        }
        const created = await ensurePartitions(db);
        for (const p of await listPartitions(db))
          process.stdout.write(`${p.name}\t${p.from ?? 'MINVALUE'}\t${p.to ?? 'MAXVALUE'}\n`);
        if (created.length) process.stdout.write(`Created: ${created.join(', ')}\n`);
      } finally {
        await db.destroy();
      }
    });

  withSettings(program.command('stats').description('Print counts: messages, reports by channel, jobs, dead letters.'))
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const config = configFrom(cmd);
      const db = openDatabase(config.database, { synchronous: config.sqliteSynchronous });
      try {
        await migrateToLatest(db);
        const s = await collectStats(db);
        if (o.json) {
          process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
          return;
        }
        const lines = [
          `messages (distinct evidence): ${s.messages}  (${(s.rawBytes / 1e6).toFixed(1)} MB raw, \
${(s.storedBytes / 1e6).toFixed(1)} MB stored)`,
          `reports: ${s.reports}`,
          ...Object.entries(s.reportsByChannel).map(([c, n]) => `  ${c.padEnd(8)} ${n}`),
          `jobs waiting: ${
            Object.entries(s.jobs)
              .map(([k, n]) => `${k}=${n}`)
              .join(' ') || 'none'
          }`,
          `dead letters: ${s.deadLetters}`,
          `API tokens: ${s.tokens}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await db.destroy();
      }
    });

  withSettings(
    program.command('verify').description('Re-hash all stored evidence and report any mismatch (exit 1 on mismatch).'),
  ).action(async (_o, cmd: Command) => {
    const config = configFrom(cmd);
    const db = openDatabase(config.database, { synchronous: config.sqliteSynchronous });
    try {
      const r = await verifyEvidence(db, (n) => {
        if (process.stderr.isTTY) process.stderr.write(`\rchecked ${n}`);
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      for (const m of r.mismatches) process.stdout.write(`MISMATCH ${m.sha256}: ${m.problem}\n`);
      process.stdout.write(
        `verified ${r.checked} messages, ${(r.bytes / 1e6).toFixed(1)} MB: ${r.mismatches.length} \
mismatch(es)${r.expired ? `; ${r.expired} expired by retention (hash kept)` : ''}\n`,
      );
      process.exitCode = r.mismatches.length > 0 ? 1 : 0;
    } finally {
      await db.destroy();
    }
  });
}
