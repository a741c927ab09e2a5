/** `jobs list`, `jobs requeue`: the background job queue, and dead jobs queued again by hand. */
import type { Command } from 'commander';
import { cliActor, configFrom, fail, withSettings } from '../options.ts';
import { openDatabase, type DB } from '../../db/dialect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { jobCounts, listDeadJobs, requeueDeadJobs } from '../../workers/jobs.ts';

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function withDb(cmd: Command, fn: (db: DB) => Promise<void>): Promise<void> {
  const config = configFrom(cmd);
  const db = openDatabase(config.database, { synchronous: config.sqliteSynchronous });
  try {
    await migrateToLatest(db);
    await fn(db);
  } finally {
    await db.destroy();
  }
}

export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('The background job queue: counts, dead jobs, requeue.');
  withSettings(
    jobs.command('list').description('Job counts by kind and state, then the dead jobs with their last error.'),
  )
    .option('--kind <kind>', 'only dead jobs of this kind')
    .option('--limit <n>', 'how many dead jobs', '50')
    .action(async (o: { kind?: string; limit: string }, cmd: Command) => {
      await withDb(cmd, async (db) => {
        for (const c of await jobCounts(db)) out(`${c.kind.padEnd(22)} ${c.state.padEnd(8)} ${c.n}`);
        for (const j of await listDeadJobs(db, { kind: o.kind, limit: Number(o.limit) })) {
          out(`${j.id}  dead  ${j.kind}  tries ${j.attempts}  ${(j.last_error ?? '').split('\n')[0].slice(0, 160)}`);
        }
      });
    });
  withSettings(
    jobs
      .command('requeue')
      .description(
        'Queue dead jobs again, due now, with fresh attempts: the given ids, or every dead job with --all-dead.',
      ),
  )
    .argument('[ids...]')
    .option('--all-dead', 'every dead job (of --kind, if given)')
    .option('--kind <kind>', 'only jobs of this kind')
    .action(async (ids: string[], o: { allDead?: boolean; kind?: string }, cmd: Command) => {
      if (ids.length === 0 && !o.allDead) fail('give job ids or --all-dead', 2);
      if (ids.length > 0 && o.allDead) fail('give job ids or --all-dead, not both', 2);
      await withDb(cmd, async (db) => {
        const n = await requeueDeadJobs(db, {
          ids: ids.length > 0 ? ids : undefined,
          kinds: o.kind ? [o.kind] : undefined,
        });
        await writeAudit(db, {
          actor: cliActor(),
          action: 'jobs.requeue',
          subject: 'jobs',
          detail: { ids: ids.length > 0 ? ids : 'all-dead', kind: o.kind ?? null, requeued: n },
        });
        out(`queued again: ${n}`);
        if (ids.length > n) process.exitCode = 1;
      });
    });
}
