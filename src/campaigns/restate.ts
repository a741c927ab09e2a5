/**
 * A campaign's story after one of its messages was analysed again (a retrace once the reporter's
 * mail host was learned, `spamdesk reanalyze` after an upgrade or a declaration): the message's
 * story facts counted at its placement (`fingerprint.ts` `storyFactsOf`, without the reporter) are
 * taken off the campaign and the new ones counted instead. Without it the story keeps the origin the
 * first trace named — the reporter's own forwarder, as the campaign's origin address, network and
 * country on the campaign page, in the partner view and in the intel build's candidates — after every
 * report's facts moved past it.
 *
 * Only the counts move: a value kept keeps its first and last seen; a value new to the campaign is
 * seen from the message's joining time. Both sides are counted by today's `storyFactsOf`: a message
 * placed by an older release, whose rules counted other values (before 2026-12-06, the domains a
 * message only names), keeps those until `spamdesk campaigns recluster` counts its campaign again.
 * The message stays in its campaign (placement is by text and links; a new analysis that would
 * place it elsewhere is for `spamdesk campaigns recluster`).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Analysis } from '../analysis/analysis-schema.ts';
import type { AnalysisChange } from '../analysis/reanalyze.ts';
import { LOCK_CLASS, lockNames } from '../db/xact-locks.ts';
import { identityOfReport } from '../evidence/redact.ts';
import { addFacts } from './campaign-store.ts';
import { storyFactsOf, type Fact } from './fingerprint.ts';
import { factsWithoutReporter, messageLockName } from './service.ts';

const key = (f: Fact) => `${f.kind}\u0000${f.value}`;
const byKey = (a: Fact, b: Fact) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/**
 * Moves each changed message's story facts in its campaign (call inside the transaction that stores
 * the new analyses). Returns how many messages' campaigns changed. A message in no campaign yet (its
 * campaign stage has not run) is left alone: its placement will read the new analysis.
 */
export async function restateCampaignFacts(db: Kysely<Database>, changes: readonly AnalysisChange[]): Promise<number> {
  const moving = changes.filter(
    (c): c is AnalysisChange & { before: Analysis } => c.before !== null && c.before.sha256 === c.after.sha256,
  );
  if (moving.length === 0) return 0;
  // The messages' placement locks (their sha256 is a cluster key): a placement of the same message
  // in another process runs before or after, never beside.
  await lockNames(
    db,
    LOCK_CLASS.clusterKey,
    moving.map((c) => messageLockName(c.after.sha256)),
  );
  let n = 0;
  for (const c of moving) {
    const sha = c.after.sha256;
    const member = await db
      .selectFrom('campaign_messages as m')
      .innerJoin('campaigns as c', 'c.id', 'm.campaign_id')
      .select(['c.id', 'c.merged_into', 'm.joined_at'])
      .where('m.sha256', '=', sha)
      .executeTakeFirst();
    if (!member) continue;
    const first = await db
      .selectFrom('reports')
      .select('id')
      .where('message_sha256', '=', sha)
      .orderBy('received_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    // The reporter taken out as the campaign stage took them out: the message's first report's.
    const identity = first ? await identityOfReport(db, first.id) : { addresses: [], names: [], numbers: [] };
    const old = factsWithoutReporter(storyFactsOf(c.before), c.before, identity);
    const now = factsWithoutReporter(storyFactsOf(c.after), c.after, identity);
    const oldKeys = new Set(old.map(key));
    const nowKeys = new Set(now.map(key));
    const gone = old.filter((f) => !nowKeys.has(key(f))).sort(byKey);
    const added = now.filter((f) => !oldKeys.has(key(f))).sort(byKey);
    if (gone.length === 0 && added.length === 0) continue;
    const campaignId = member.merged_into ?? member.id;
    for (const f of gone) {
      await db
        .updateTable('campaign_facts')
        .set((eb) => ({ count: eb('count', '-', 1) }))
        .where('campaign_id', '=', campaignId)
        .where('kind', '=', f.kind)
        .where('value', '=', f.value)
        .execute();
    }
    if (gone.length > 0)
      await db
        .deleteFrom('campaign_facts')
        .where('campaign_id', '=', campaignId)
        .where('kind', 'in', [...new Set(gone.map((f) => f.kind))])
        .where('count', '<=', 0)
        .execute();
    await addFacts(db, campaignId, added, member.joined_at);
    n++;
  }
  return n;
}
