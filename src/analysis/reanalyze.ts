/**
 * Re-runs the analysis over stored evidence at the current ANALYSER_VERSION (after the analysers
 * improved): messages first seen since a date, in batches, in the worker-thread pool, each batch
 * stored in one transaction. Older versions' rows stay (history); the new version is added.
 */
import type { DB } from '../db/dialect.ts';
import { getMessageRaw } from '../evidence/store.ts';
import { ANALYSER_VERSION } from './analysis-schema.ts';
import type { AnalysisPool } from './pool.ts';
import { storeAnalysis } from './repository.ts';

export interface ReanalyzeOptions {
  /** ISO 8601: only messages first seen at or after it. */
  since?: string | null;
  /** Re-run even messages already analysed at the current version. */
  force?: boolean;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
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
  const all = await q.execute();
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
    const results = await Promise.all(
      batch.map(async (m) => {
        const raw = await getMessageRaw(db, m.sha256);
        return raw ? pool.analyse(raw) : null;
      }),
    );
    await db.transaction().execute(async (trx) => {
      for (const r of results) {
        if (!r) continue;
        await storeAnalysis(trx, r.analysis, r.durationMs);
      }
    });
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
