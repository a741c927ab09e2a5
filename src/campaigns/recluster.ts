/**
 * Re-clustering of every stored message with the current rules (`spamdesk campaigns recluster`):
 * campaigns built by older rules — which chained unrelated mail together — are dropped and every
 * analysed report is placed again, oldest first, exactly as ingest places it.
 *
 * Resumable: the run's state (`campaign_recluster`) and each message's old campaign
 * (`campaign_recluster_old`) are written before anything is dropped, and the cursor moves in the
 * same transaction as each batch, so a crash (or Ctrl-C) resumes where it stopped. When the walk is
 * done, {@link splitsOf} tells, for each old campaign, which new campaigns its messages are in —
 * what the actions area needs to re-target its cases and hold those whose campaign split.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { nowIso } from '../core/ids.ts';
import { getLatestAnalysis } from '../analysis/repository.ts';
import { fingerprintOf, type Fingerprint } from './fingerprint.ts';
import { ingestFingerprint } from './cluster.ts';
import { withoutReporter } from './service.ts';
import { currentCategory } from './relabel.ts';

const STATE_ID = 'current';
/** Reports placed per transaction: long enough to amortise the commit, short enough to resume. */
export const RECLUSTER_BATCH = 200;

export interface ReclusterProgress {
  phase: 'clustering' | 'finishing' | 'done';
  done: number;
  total: number;
  resumed: boolean;
}

/** Where the run stands, or null when none was started. */
export async function reclusterState(db: Kysely<Database>): Promise<ReclusterProgress | null> {
  const s = await db.selectFrom('campaign_recluster').selectAll().where('id', '=', STATE_ID).executeTakeFirst();
  if (!s) return null;
  return {
    phase: s.phase === 'done' ? 'done' : s.phase === 'finishing' ? 'finishing' : 'clustering',
    done: Number(s.done),
    total: Number(s.total),
    resumed: true,
  };
}

/**
 * Starts a run (or resumes an unfinished one) and walks reports until all are placed or
 * `maxReports` were placed in this call. Returns where the run stands.
 */
export async function reclusterStep(
  db: Kysely<Database>,
  opts: { maxReports?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<ReclusterProgress> {
  let state = await db.selectFrom('campaign_recluster').selectAll().where('id', '=', STATE_ID).executeTakeFirst();
  const resumed = state !== undefined && state.phase !== 'done';
  if (!state || state.phase === 'done') {
    await startRun(db);
    state = await db.selectFrom('campaign_recluster').selectAll().where('id', '=', STATE_ID).executeTakeFirstOrThrow();
  }
  if (state.phase !== 'clustering')
    return { phase: 'finishing', done: Number(state.done), total: Number(state.total), resumed };
  let done = Number(state.done);
  const total = Number(state.total);
  let cursor: { at: string; id: string } | null =
    state.cursor_received_at && state.cursor_report_id
      ? { at: state.cursor_received_at, id: state.cursor_report_id }
      : null;
  let budget = opts.maxReports ?? Infinity;
  for (;;) {
    if (budget <= 0) return { phase: 'clustering', done, total, resumed };
    let q = db
      .selectFrom('reports')
      .select(['id', 'message_sha256', 'received_at'])
      .orderBy('received_at')
      .orderBy('id')
      .limit(Math.min(RECLUSTER_BATCH, budget));
    if (cursor) {
      const c = cursor;
      q = q.where((eb) =>
        eb.or([eb('received_at', '>', c.at), eb.and([eb('received_at', '=', c.at), eb('id', '>', c.id)])]),
      );
    }
    const batch = await q.execute();
    if (batch.length === 0) break;
    const last = batch[batch.length - 1];
    await db.transaction().execute(async (trx) => {
      const placed = new Set(
        (
          await trx
            .selectFrom('campaign_messages')
            .select('sha256')
            .where('sha256', 'in', [...new Set(batch.map((r) => r.message_sha256))])
            .execute()
        ).map((r) => r.sha256),
      );
      for (const r of batch) {
        const fp = placed.has(r.message_sha256)
          ? repeatOf(r.message_sha256)
          : await fingerprintFor(trx, r.message_sha256, r.id);
        if (!fp) continue; // not analysed yet: its campaign job places it when it is
        await ingestFingerprint(trx, fp, {
          seenAt: r.received_at,
          category: await currentCategory(trx, r.message_sha256),
        });
        placed.add(r.message_sha256);
      }
      await trx
        .updateTable('campaign_recluster')
        .set({ cursor_received_at: last.received_at, cursor_report_id: last.id, done: done + batch.length })
        .where('id', '=', STATE_ID)
        .execute();
    });
    done += batch.length;
    budget -= batch.length;
    cursor = { at: last.received_at, id: last.id };
    opts.onProgress?.(done, total);
  }
  await db.updateTable('campaign_recluster').set({ phase: 'finishing' }).where('id', '=', STATE_ID).execute();
  return { phase: 'finishing', done, total, resumed };
}

/** Keeps every message's campaign, then drops the campaigns: one transaction, so never half. */
async function startRun(db: Kysely<Database>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('campaign_recluster_old').execute();
    await sql`insert into campaign_recluster_old (sha256, campaign_id)
      select m.sha256, coalesce(c.merged_into, m.campaign_id) from campaign_messages m left join campaigns c on c.id = \
m.campaign_id`.execute(trx);
    for (const t of [
      'campaign_bands',
      'campaign_reps',
      'campaign_links',
      'campaign_facts',
      'campaign_messages',
      'campaigns',
    ] as const)
      await trx.deleteFrom(t).execute();
    const total = await trx
      .selectFrom('reports')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    await trx.deleteFrom('campaign_recluster').execute();
    await trx
      .insertInto('campaign_recluster')
      .values({
        id: STATE_ID,
        started_at: nowIso(),
        phase: 'clustering',
        cursor_received_at: null,
        cursor_report_id: null,
        done: 0,
        total: Number(total.n),
        finished_at: null,
      })
      .execute();
  });
}

/** A repeat report needs nothing of the message but its hash (ingest counts it as a report). */
function repeatOf(sha256: string): Fingerprint {
  return { sha256, kind: 'email', signature: null, bands: [], links: [], facts: [], tokenCount: 0 };
}

/** The fingerprint of a message, its story facts without the reporter's identity (service.ts). */
async function fingerprintFor(db: Kysely<Database>, sha256: string, reportId: string): Promise<Fingerprint | null> {
  const a = await getLatestAnalysis(db, sha256);
  return a ? withoutReporter(db, reportId, a, fingerprintOf(a)) : null;
}

/** One old campaign and the new campaigns its messages are now in, largest first. */
export interface Split {
  old: string;
  pieces: { campaignId: string; messages: number }[];
}

/** For each old campaign, where its messages went (new ids resolved through merges). */
export async function splitsOf(db: Kysely<Database>): Promise<Map<string, Split>> {
  const rows = await db
    .selectFrom('campaign_recluster_old as o')
    .innerJoin('campaign_messages as m', 'm.sha256', 'o.sha256')
    .innerJoin('campaigns as c', 'c.id', 'm.campaign_id')
    .select([
      'o.campaign_id as old',
      (eb) => eb.fn.coalesce('c.merged_into', 'c.id').as('now'),
      (eb) => eb.fn.countAll<number>().as('n'),
    ])
    .groupBy(['o.campaign_id', 'c.merged_into', 'c.id'])
    .execute();
  const out = new Map<string, Split>();
  for (const r of rows) {
    const s = out.get(r.old) ?? { old: r.old, pieces: [] };
    const piece = s.pieces.find((p) => p.campaignId === r.now);
    if (piece) piece.messages += Number(r.n);
    else s.pieces.push({ campaignId: String(r.now), messages: Number(r.n) });
    out.set(r.old, s);
  }
  for (const s of out.values())
    s.pieces.sort((a, b) => b.messages - a.messages || (a.campaignId < b.campaignId ? -1 : 1));
  return out;
}

/** Ends the run: the old membership is forgotten. */
export async function finishRecluster(db: Kysely<Database>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('campaign_recluster_old').execute();
    await trx
      .updateTable('campaign_recluster')
      .set({ phase: 'done', finished_at: nowIso() })
      .where('id', '=', STATE_ID)
      .execute();
  });
}
