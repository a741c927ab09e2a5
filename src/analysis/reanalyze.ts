/**
 * Re-runs the analysis over stored evidence at the current ANALYSER_VERSION (after the analysers
 * improved, or after a reporter declared their mail hosts): messages first seen since a date, or
 * reported under one reporter's key, in batches, in the worker-thread pool, each batch stored in one
 * transaction. Older versions' rows stay (history); the new version is added. Each message is traced
 * with the reporter context the live `analyse-report` job gives it: the declared and learned mail
 * hosts and the mail domain of its first report's reporter (without them a re-analysis would blame
 * the reporter's own forwarders and hosts the live trace looked past). One difference remains: live
 * DNS (trace-back rule 6) is asked for fresh mail only, so a hop the live job believed through a DNS
 * answer at the time is judged offline when its mail is re-analysed later.
 */
import type { DB } from '../db/dialect.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { getMessageRaw } from '../evidence/store.ts';
import { ANALYSER_VERSION, type Analysis } from './analysis-schema.ts';
import { batchMailhosts, keysOfReports, reporterFactsOf, whereKey } from './mailhost-store.ts';
import type { AnalysisPool } from './pool.ts';
import { getLatestAnalyses, storeAnalysis } from './repository.ts';

export interface ReanalyzeOptions {
  /** ISO 8601: only messages first seen at or after it. */
  since?: string | null;
  /** Re-run even messages already analysed at the current version. */
  force?: boolean;
  /**
   * Only the messages reported under this key (`user:<id>`, `token:<id>`, `intake:<channel>`; see
   * `mailhost-store.ts`): a reporter's reports after they declared their mail hosts.
   */
  reporter?: string | null;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /**
   * Called in each batch's transaction with the analyses that completed (not the errors or
   * time-outs), after they are stored, each with the analysis stored before it: the actions area
   * rebuilds its facts from them (`src/actions/refresh-facts.ts`), the campaigns area restates the
   * messages' story facts (`src/campaigns/restate.ts`); this layer can import neither.
   */
  onStored?: (trx: Kysely<Database>, changes: readonly AnalysisChange[]) => Promise<void>;
  /** Called after each batch's transaction committed, with its completed analyses (the workbench index). */
  onCommitted?: (analyses: readonly Analysis[]) => Promise<void>;
}

/** A message analysed again: the latest analysis stored before (null when none) and the new one. */
export interface AnalysisChange {
  before: Analysis | null;
  after: Analysis;
}

export interface ReanalyzeSummary {
  total: number;
  analysed: number;
  skipped: number;
  errors: number;
  timeouts: number;
  missing: number;
  seconds: number;
  version: string;
}

export async function reanalyze(db: DB, pool: AnalysisPool, opts: ReanalyzeOptions = {}): Promise<ReanalyzeSummary> {
  const t0 = Date.now();
  let q = db.selectFrom('messages').select(['sha256', 'first_seen_at']).orderBy('first_seen_at').orderBy('sha256');
  if (opts.since) q = q.where('first_seen_at', '>=', opts.since);
  let all = await q.execute();
  if (opts.reporter) {
    const where = whereKey(opts.reporter);
    if (where === null)
      throw new RangeError(`not a reporter key: ${opts.reporter} (user:ID, token:ID or intake:CHANNEL)`);
    const rows = await db.selectFrom('reports').select('message_sha256').where(where).execute();
    const mine = new Set(rows.map((r) => r.message_sha256));
    all = all.filter((m) => mine.has(m.sha256));
  }
  let current = new Set<string>();
  if (!opts.force) {
    const rows = await db
      .selectFrom('analyses')
      .select('message_sha256')
      .where('version', '=', ANALYSER_VERSION)
      .execute();
    current = new Set(rows.map((r) => r.message_sha256));
  }
  const todo = all.filter((m) => !current.has(m.sha256));
  const s: ReanalyzeSummary = {
    total: all.length,
    analysed: 0,
    skipped: all.length - todo.length,
    errors: 0,
    timeouts: 0,
    missing: 0,
    seconds: 0,
    version: ANALYSER_VERSION,
  };
  const size = opts.batchSize ?? 200;
  for (let i = 0; i < todo.length; i += size) {
    const batch = todo.slice(i, i + size);
    const context = await reporterContextOf(
      db,
      batch.map((m) => m.sha256),
    );
    const results = await Promise.all(
      batch.map(async (m) => {
        const raw = await getMessageRaw(db, m.sha256);
        return raw ? pool.analyse(raw, context.get(m.sha256) ?? {}) : null;
      }),
    );
    const done: Analysis[] = [];
    for (const r of results) if (r?.outcome === 'ok') done.push(r.analysis);
    await db.transaction().execute(async (trx) => {
      // What the messages' campaign stories were counted from, before the new rows are the latest.
      const before = opts.onStored
        ? await getLatestAnalyses(
            trx,
            done.map((a) => a.sha256),
          )
        : new Map<string, Analysis | null>();
      for (const r of results) {
        if (!r) continue;
        await storeAnalysis(trx, r.analysis, r.durationMs);
      }
      if (opts.onStored && done.length > 0)
        await opts.onStored(
          trx,
          done.map((a) => ({ before: before.get(a.sha256) ?? null, after: a })),
        );
    });
    if (opts.onCommitted && done.length > 0) await opts.onCommitted(done);
    for (const r of results) {
      if (!r) s.missing++;
      else if (r.outcome === 'timeout') s.timeouts++;
      else if (r.outcome === 'error') s.errors++;
      s.analysed += r ? 1 : 0;
    }
    opts.onProgress?.(Math.min(i + size, todo.length), todo.length);
  }
  s.seconds = (Date.now() - t0) / 1000;
  return s;
}

/**
 * What the trace-back of each message is told about its first report's reporter (the live job's
 * choice: a message reported twice is analysed once, for the report that brought it): their mail
 * hosts, declared and learned, and their mail domain.
 */
export async function reporterContextOf(
  db: DB,
  shas: readonly string[],
): Promise<Map<string, { mailhosts: string[]; recipientDomains: string[]; resentBy?: string[] }>> {
  const first = new Map<string, string>();
  for (let i = 0; i < shas.length; i += 200) {
    const rows = await db
      .selectFrom('reports')
      .select(['id', 'message_sha256'])
      .where('message_sha256', 'in', shas.slice(i, i + 200))
      .orderBy('received_at')
      .orderBy('id')
      .execute();
    for (const r of rows) if (!first.has(r.message_sha256)) first.set(r.message_sha256, r.id);
  }
  const ids = [...first.values()];
  const keys = await keysOfReports(db, ids);
  const reporters = await reporterFactsOf(db, ids);
  const hostsOf = batchMailhosts(db);
  const out = new Map<string, { mailhosts: string[]; recipientDomains: string[]; resentBy?: string[] }>();
  for (const [sha, id] of first) {
    const facts = reporters.get(id);
    out.set(sha, {
      mailhosts: await hostsOf(keys.get(id) ?? []),
      recipientDomains: facts?.domains ?? [],
      ...(facts?.resentBy ? { resentBy: facts.resentBy } : {}),
    });
  }
  return out;
}
