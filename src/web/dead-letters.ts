/**
 * Intake dead letters (foundation table `dead_letters`: malformed import entries and anything else
 * intake parks with its reason) as staff handle them: list, retry, dismiss. IntelMQ's habit
 * (STYLE.md "Failures are results"): bad input is parked with its reason and can be replayed.
 *
 * A retry re-runs the same check the source runs (`assertEmailMessage` for import) on the kept
 * copy and, when it now passes, stores it through the report writer with the source's channel and
 * dedup key, so a retried entry and a later re-import of the same file make one report. A copy
 * that may have been cut at the kept-size limit is never stored as evidence. Every action is kept
 * in `web_dead_letter_actions` (who, when, outcome) and in the audit log by the caller.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { AppError } from '../core/errors.ts';
import { newId, nowIso } from '../core/ids.ts';
import { assertEmailMessage } from '../evidence/message-check.ts';
import type { Channel, ReportWriter } from '../evidence/report-writer.ts';
import { INDEXER_SOURCE, indexReports } from './indexer.ts';

export const DEAD_LETTER_PAGE = 50;
/** The importer keeps at most this much of a bad entry (src/intake/import/importer.ts). */
const KEPT_COPY_LIMIT = 1024 * 1024;

/** Sources whose kept copy can be stored again, with the channel and dedup key they use. */
const RETRYABLE: Record<string, { channel: Channel; dedupKey: (sha256: string) => string }> = {
  import: { channel: 'import', dedupKey: (sha) => `import:${sha}` },
};

export interface DeadLetterRow {
  id: string;
  source: string;
  reason: string;
  origin: string | null;
  size: number | null;
  createdAt: string;
  retriedAt: string | null;
  /** The latest staff action, if any. */
  last: { action: string; actor: string; at: string; detail: string | null } | null;
  /** Why a retry is not offered, or null when it is. */
  notRetryable: 'no-copy' | 'source' | 'cut' | null;
}

function notRetryable(source: string, size: number | null): DeadLetterRow['notRetryable'] {
  // A report the indexer parked is in the database: a retry indexes it again, no copy needed.
  if (source === INDEXER_SOURCE) return null;
  if (size === null) return 'no-copy';
  if (!RETRYABLE[source]) return 'source';
  if (size >= KEPT_COPY_LIMIT) return 'cut';
  return null;
}

/** `open`: waiting for someone (not retried, not dismissed); `closed`: the others. Newest first, keyset on id. */
export async function listDeadLetters(
  db: Kysely<Database>,
  state: 'open' | 'closed',
  before: string | null,
  limit = DEAD_LETTER_PAGE,
): Promise<{ rows: DeadLetterRow[]; next: string | null }> {
  let q = db
    .selectFrom('dead_letters as d')
    .select([
      'd.id',
      'd.source',
      'd.reason',
      'd.origin',
      'd.created_at',
      'd.retried_at',
      (eb) => eb.fn('length', ['d.payload']).as('size'),
    ])
    .orderBy('d.id', 'desc')
    .limit(limit + 1);
  q = q.where((eb) => {
    const dismissed = eb.exists(
      eb
        .selectFrom('web_dead_letter_actions as a')
        .select('a.dead_letter_id')
        .whereRef('a.dead_letter_id', '=', 'd.id')
        .where('a.action', '=', 'dismissed'),
    );
    return state === 'open'
      ? eb.and([eb('d.retried_at', 'is', null), eb.not(dismissed)])
      : eb.or([eb('d.retried_at', 'is not', null), dismissed]);
  });
  if (before) q = q.where('d.id', '<', before);
  const found = await q.execute();
  const page = found.slice(0, limit);
  const actions =
    page.length > 0
      ? await db
          .selectFrom('web_dead_letter_actions')
          .selectAll()
          .where(
            'dead_letter_id',
            'in',
            page.map((r) => r.id),
          )
          .orderBy('at')
          .orderBy('id')
          .execute()
      : [];
  const last = new Map(
    actions.map((a) => [a.dead_letter_id, { action: a.action, actor: a.actor, at: a.at, detail: a.detail }]),
  );
  const rows = page.map((r) => {
    const size = r.size === null ? null : Number(r.size);
    return {
      id: r.id,
      source: r.source,
      reason: r.reason,
      origin: r.origin,
      size,
      createdAt: r.created_at,
      retriedAt: r.retried_at,
      last: last.get(r.id) ?? null,
      notRetryable: notRetryable(r.source, size),
    };
  });
  return { rows, next: found.length > limit ? (page[page.length - 1]?.id ?? null) : null };
}

/** Open dead letters (for the navigation badge and the metrics). */
export async function countOpenDeadLetters(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('dead_letters as d')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('d.retried_at', 'is', null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('web_dead_letter_actions as a')
            .select('a.dead_letter_id')
            .whereRef('a.dead_letter_id', '=', 'd.id')
            .where('a.action', '=', 'dismissed'),
        ),
      ),
    )
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function record(
  db: Kysely<Database>,
  id: string,
  action: string,
  actor: string,
  detail: string | null,
): Promise<void> {
  await db
    .insertInto('web_dead_letter_actions')
    .values({ id: newId(), dead_letter_id: id, action, actor, at: nowIso(), detail })
    .execute();
}

async function openLetter(db: Kysely<Database>, id: string) {
  const d = await db.selectFrom('dead_letters').selectAll().where('id', '=', id).executeTakeFirst();
  if (!d) throw new AppError('NOT_FOUND', 'No such dead letter.');
  const dismissed = await db
    .selectFrom('web_dead_letter_actions')
    .select('id')
    .where('dead_letter_id', '=', id)
    .where('action', '=', 'dismissed')
    .executeTakeFirst();
  if (d.retried_at !== null || dismissed)
    throw new AppError('CONFLICT', 'This dead letter was already retried or dismissed.');
  return d;
}

export type RetryOutcome =
  | { stored: true; reportId: string; duplicate: boolean; reindexed?: boolean }
  | { stored: false; reason: string };

/**
 * Indexes a report the indexer parked again (after a fix, or once what made it fail is gone). The
 * letter is marked retried first, so the indexer's passes look at the report again too; if it
 * still fails, the indexer parks it anew with the new reason, and the retry says so.
 */
async function retryIndexing(db: Kysely<Database>, d: { id: string; origin: string | null }, actor: string) {
  const reportId = d.origin?.startsWith('report:') ? d.origin.slice('report:'.length) : '';
  const report = reportId
    ? await db.selectFrom('reports').select('id').where('id', '=', reportId).executeTakeFirst()
    : undefined;
  if (!report) throw new AppError('CONFLICT', 'The report of this entry no longer exists; dismiss it.');
  await db.updateTable('dead_letters').set({ retried_at: nowIso() }).where('id', '=', d.id).execute();
  await indexReports(db, [reportId]);
  const again = await db
    .selectFrom('dead_letters')
    .select('reason')
    .where('source', '=', INDEXER_SOURCE)
    .where('origin', '=', `report:${reportId}`)
    .where('retried_at', 'is', null)
    .executeTakeFirst();
  if (again) {
    await record(db, d.id, 'retry-refused', actor, again.reason);
    return { stored: false as const, reason: again.reason };
  }
  await record(db, d.id, 'retried', actor, reportId);
  return { stored: true as const, reportId, duplicate: false, reindexed: true };
}

/** Runs the source's check on the kept copy again and stores it as a report when it passes. */
export async function retryDeadLetter(
  db: Kysely<Database>,
  writer: ReportWriter,
  id: string,
  actor: string,
): Promise<RetryOutcome> {
  const d = await openLetter(db, id);
  if (d.source === INDEXER_SOURCE) return retryIndexing(db, d, actor);
  const size = d.payload === null ? null : d.payload.length;
  const why = notRetryable(d.source, size);
  if (why === 'no-copy')
    throw new AppError('CONFLICT', 'Nothing was kept of this entry; fix the source and import it again.');
  if (why === 'source') throw new AppError('CONFLICT', `Entries from ${d.source} cannot be stored again from here.`);
  if (why === 'cut')
    throw new AppError('CONFLICT', 'Only the first megabyte of this entry was kept; import the source again instead.');
  const how = RETRYABLE[d.source];
  const raw = Buffer.from(d.payload ?? Buffer.alloc(0));
  try {
    assertEmailMessage(raw);
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    await record(db, id, 'retry-refused', actor, e.message);
    return { stored: false, reason: e.message };
  }
  const r = await writer.submitOne({
    raw,
    channel: how.channel,
    dedupKey: how.dedupKey,
    context: { origin: d.origin, deadLetter: d.id },
  });
  await db.updateTable('dead_letters').set({ retried_at: nowIso() }).where('id', '=', id).execute();
  await record(db, id, 'retried', actor, r.id);
  return { stored: true, reportId: r.id, duplicate: r.duplicate };
}

/** Takes a dead letter off the open list (kept, with who and when). */
export async function dismissDeadLetter(db: Kysely<Database>, id: string, actor: string): Promise<void> {
  await openLetter(db, id);
  await record(db, id, 'dismissed', actor, null);
}

/** The kept copy of an entry (for download; the caller audits). */
export async function deadLetterPayload(db: Kysely<Database>, id: string): Promise<Buffer | null> {
  const d = await db.selectFrom('dead_letters').select('payload').where('id', '=', id).executeTakeFirst();
  if (!d) throw new AppError('NOT_FOUND', 'No such dead letter.');
  return d.payload === null ? null : Buffer.from(d.payload);
}
