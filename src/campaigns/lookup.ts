/**
 * Fuzzy look-up for mail filters ("has the public reported this?", as Razor, Pyzor and DCC
 * answer): a raw message is analysed in the bounded worker pool (profile `lookup`: parse and
 * indicators only — no network) and fingerprinted there exactly as at ingest (`lookup-print.ts`:
 * only the fingerprint crosses back to this thread), and matched against the
 * stored band index and strong links. Only campaign-level figures are returned — never a report,
 * a reporter or a message. A message the analysis cannot finish within its time and memory bounds
 * is refused (`ANALYSIS_BOUND`, HTTP 422) rather than matched on nothing.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { AppError } from '../core/errors.ts';
import type { AnalysisPool } from '../analysis/pool.ts';
import { fingerprintOf } from './fingerprint.ts';
import { findMatches, type MatchReads } from './cluster.ts';
import { isLookupPrint } from './lookup-print.ts';

const MAX_MATCHES = 10;

export interface LookupMatch {
  campaignId: string;
  similarity: number;
  matchedBy: string[];
  category: string | null;
  reportCount: number;
  messageCount: number;
  firstSeen: string;
  lastSeen: string;
}

export interface LookupResult {
  matches: LookupMatch[];
  /** Template tokens compared (0: the text was too short for similarity; only strong links). */
  tokens: number;
}

/**
 * Looks a raw message up; throws `ANALYSIS_BOUND` when its analysis ran out of time or memory. `reads`:
 * the index reads to match with (SQLite's own, `match-reads.ts`); through Kysely on `db` otherwise.
 */
export async function lookupMessage(
  db: Kysely<Database>,
  pool: AnalysisPool,
  raw: Uint8Array,
  reads: MatchReads | null = null,
): Promise<LookupResult> {
  const r = await pool.analyse(raw, { profile: 'lookup', reduce: true });
  if (r.analysis.error)
    throw new AppError('ANALYSIS_BOUND', `${r.analysis.error.message}; the message was not looked up.`);
  // The look-up threads send the fingerprint (lookup-print.ts); a pool without that reducer sends the record.
  const fp = isLookupPrint(r.reduced) ? r.reduced : fingerprintOf(r.analysis);
  // The match's few indexed reads on one connection, taken once (not once per statement); the
  // campaigns' figures come with their roots, not from a query of their own.
  const found = reads ? await findMatches(reads, fp) : await db.connection().execute((conn) => findMatches(conn, fp));
  const matches = found.slice(0, MAX_MATCHES);
  return {
    tokens: fp.tokenCount,
    matches: matches.map((m) => ({
      campaignId: m.campaignId,
      similarity: Math.round(m.similarity * 1000) / 1000,
      matchedBy: m.matchedBy,
      category: m.category,
      ...m.figures,
    })),
  };
}
