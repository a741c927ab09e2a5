/** `spamdesk campaigns recluster`, `spamdesk campaigns held` */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { configFrom, fail, withSettings } from '../options.ts';
import { openDatabase, type DB } from '../../db/dialect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { finishRecluster, reclusterState, reclusterStep, splitsOf } from '../../campaigns/recluster.ts';
import { followRecluster, type ReclusterCasesOutcome } from '../../actions/cases/recluster-cases.ts';
import { reindexCampaigns } from '../../web/indexer.ts';
import { policyFor } from '../../actions/action-policy.ts';
import { MAX_HELD_PAGE, listHeldCampaigns, type HeldPage } from '../../actions/held-campaigns.ts';

/** The held campaigns as the CLI prints them: one block per campaign, then where the list goes on. */
export function formatHeld(page: HeldPage): string {
  const out: string[] = [];
  out.push(
    `${page.total} campaign(s) held by the gates${page.rows.length < page.total ? `, ${page.rows.length} shown` : ''}`,
  );
  for (const c of page.rows) {
    const mix = c.categories.map((x) => `${x.category} ${x.messages}`).join(', ');
    out.push(
      `${c.id}  ${c.category ?? '-'}  ${c.messages} message(s), ${c.reports} report(s)  last seen ${c.lastSeenAt}` +
        (mix ? `  [${mix}]` : ''),
    );
    for (const r of c.reasonTexts) out.push(`  - ${r}`);
  }
  if (page.next) out.push(`more: --before ${page.next}`);
  return `${out.join('\n')}\n`;
}

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

  withSettings(
    campaigns
      .command('held')
      .description(
        'The campaigns the gates hold (their messages mix categories or include legitimate mail): nothing leaves on ' +
          'them automatically until an analyst relabels the odd reports or refers a case by hand. Most recently ' +
          'active first.',
      )
      .option('--limit <n>', `campaigns to show (at most ${MAX_HELD_PAGE})`, '50')
      .option('--min <n>', 'only campaigns of at least N messages', '1')
      .option('--before <cursor>', 'continue after an earlier page (its "more:" line)')
      .option('--json', 'print JSON'),
  ).action(async (o: { limit: string; min: string; before?: string; json?: boolean }, cmd: Command) => {
    const limit = Number(o.limit);
    const min = Number(o.min);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HELD_PAGE)
      fail(`--limit must be a whole number from 1 to ${MAX_HELD_PAGE}, not ${o.limit}`, 2);
    if (!Number.isInteger(min) || min < 1) fail(`--min must be a whole number of at least 1, not ${o.min}`, 2);
    const config = configFrom(cmd);
    const db = openDatabase(config.database, { synchronous: config.sqliteSynchronous });
    try {
      await migrateToLatest(db);
      const page = await listHeldCampaigns(db, policyFor(config), {
        limit,
        minMessages: min,
        before: o.before ?? null,
      });
      process.stdout.write(o.json ? `${JSON.stringify(page, null, 2)}\n` : formatHeld(page));
    } finally {
      await db.destroy();
    }
  });
}
