/** `spamdesk campaigns recluster` */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { configFrom, withSettings } from '../options.ts';
import { openDatabase, type DB } from '../../db/dialect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { finishRecluster, reclusterState, reclusterStep, splitsOf } from '../../campaigns/recluster.ts';
import { followRecluster, type ReclusterCasesOutcome } from '../../actions/cases/recluster-cases.ts';
import { reindexCampaigns } from '../../web/indexer.ts';

export interface ReclusterSummary {
  reports: number;
  campaigns: number;
  resumed: boolean;
  cases: ReclusterCasesOutcome;
}

/**
 * The whole re-clustering: the campaigns area walks every report again (resuming an unfinished
 * run), then the actions area re-targets its cases and the workbench recounts its campaign
 * figures. `maxReports` stops the walk early (tests, and a run cut short) — the next call resumes.
 */
export async function runRecluster(
  db: DB,
  opts: { maxReports?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<ReclusterSummary | null> {
  const walked = await reclusterStep(db, opts);
  if (walked.phase === 'clustering') return null;
  const cases = await followRecluster(db, await splitsOf(db));
  await reindexCampaigns(db);
  await finishRecluster(db);
  const campaigns = await db
    .selectFrom('campaigns')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('merged_into', 'is', null)
    .executeTakeFirstOrThrow();
  return { reports: walked.done, campaigns: Number(campaigns.n), resumed: walked.resumed, cases };
}

export function registerCampaigns(program: Command): void {
  const campaigns = program.command('campaigns').description('Campaign maintenance.');
  withSettings(
    campaigns
      .command('recluster')
      .description(
        'Re-cluster every stored message with the current rules (oldest report first). Resumable: run it again after ' +
          'an interruption. Cases whose campaign split wait for review. Best run while intake is quiet.',
      ),
  ).action(async (_o, cmd: Command) => {
    const config = configFrom(cmd);
    const db = openDatabase(config.database, { synchronous: config.sqliteSynchronous });
    const tty = process.stderr.isTTY === true;
    const bar = tty
      ? new cliProgress.SingleBar(
          {
            format: 're-clustering [{bar}] {percentage}% | {value}/{total} reports | {eta_formatted} left',
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
    let started = false;
    try {
      await migrateToLatest(db);
      const before = await reclusterState(db);
      if (before && before.phase !== 'done')
        process.stderr.write(`resuming the run left at ${before.done} of ${before.total} reports\n`);
      const s = await runRecluster(db, {
        onProgress: (done, total) => {
          if (!bar) return;
          if (!started) {
            bar.start(Math.max(total, done), 0);
            started = true;
          }
          bar.setTotal(Math.max(total, done));
          bar.update(done);
        },
      });
      bar?.stop();
      if (!s) return;
      process.stdout.write(
        `re-clustered ${s.reports} report(s) into ${s.campaigns} campaign(s)${s.resumed ? ' (resumed)' : ''}; \
${s.cases.retargeted} live case(s) re-targeted, ${s.cases.heldForReview} held for review because their campaign \
split\n`,
      );
    } finally {
      bar?.stop();
      await db.destroy();
    }
  });
}
