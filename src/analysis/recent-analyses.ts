/**
 * The analyses this process has just stored, handed to the later stages of the same process
 * (`campaign-report`, `actions-report`) instead of being read back and parsed again: reading one
 * back is a JSON parse and a schema check of the whole record (~1.5–4 ms each on this machine),
 * and each of the two later stages did it once per report (issue 17).
 *
 * Same results as reading back: a remembered record is used only while it is still the latest one
 * stored for its message — one small query per batch compares its `analysed_at` and version with
 * the stored rows, and anything else (a newer analysis stored by another process, a tie, a record
 * another process stored) is read and parsed as before. The record the analysis stage stores is the
 * one it remembers, and a stored record parses back to an equal one (recent-analyses.test.ts checks
 * it on corpus messages). Records are frozen, so no stage can change what the next one sees.
 * Bounded: the oldest are forgotten first, and the last stage forgets what it used.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Analysis } from './analysis-schema.ts';
import { getLatestAnalyses } from './repository.ts';

/** Records kept at most (~20–60 kB each): a backlog of this many between stages still hits. */
export const MAX_RECENT_ANALYSES = 1000;
/** Messages looked up per statement. */
const SHAS_PER_QUERY = 500;

const recent = new Map<string, Analysis>();
let hits = 0;
let misses = 0;

function deepFreeze<T>(v: T): T {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return v;
  Object.freeze(v);
  for (const x of Object.values(v)) deepFreeze(x);
  return v;
}

/** Remembers an analysis just stored (call after its transaction committed). */
export function rememberAnalysis(a: Analysis): void {
  recent.delete(a.sha256);
  recent.set(a.sha256, deepFreeze(a));
  while (recent.size > MAX_RECENT_ANALYSES) {
    const oldest = recent.keys().next();
    if (oldest.done) break;
    recent.delete(oldest.value);
  }
}

/** Forgets the records of these messages (the last stage that needs them is done). */
export function forgetAnalyses(sha256s: Iterable<string>): void {
  for (const s of sha256s) recent.delete(s);
}

/** How often a record was handed on rather than read back (for tests and the bench's notes). */
export function recentAnalysisStats(): { hits: number; misses: number; kept: number } {
  return { hits, misses, kept: recent.size };
}

/**
 * The latest stored analysis of each message (whatever its version), as `getLatestAnalysis` would
 * return it; messages without one are absent. Remembered records are used while still the latest.
 */
export async function latestAnalyses(db: Kysely<Database>, sha256s: readonly string[]): Promise<Map<string, Analysis>> {
  const out = new Map<string, Analysis>();
  const wanted = [...new Set(sha256s)];
  const known = wanted.filter((s) => recent.has(s));
  const fresh = new Set<string>();
  for (let i = 0; i < known.length; i += SHAS_PER_QUERY) {
    const rows = await db
      .selectFrom('analyses')
      .select(['message_sha256', 'version', 'analysed_at'])
      .where('message_sha256', 'in', known.slice(i, i + SHAS_PER_QUERY))
      .execute();
    const latest = new Map<string, { version: string; at: string; tie: boolean }>();
    for (const r of rows) {
      const l = latest.get(r.message_sha256);
      if (!l || r.analysed_at > l.at)
        latest.set(r.message_sha256, { version: r.version, at: r.analysed_at, tie: false });
      else if (r.analysed_at === l.at) l.tie = true;
    }
    for (const [sha, l] of latest) {
      const a = recent.get(sha);
      if (a && !l.tie && a.analysedAt === l.at && a.analyserVersion === l.version) fresh.add(sha);
    }
  }
  const missed: string[] = [];
  for (const sha of wanted) {
    const a = fresh.has(sha) ? recent.get(sha) : undefined;
    if (a) {
      hits++;
      out.set(sha, a);
    } else missed.push(sha);
  }
  // Read back in one statement per 500 messages, not one each: under a backlog of more than
  // MAX_RECENT_ANALYSES most of a batch misses (3,502 reads per 3,000 reports in the warm e2e run).
  misses += missed.length;
  for (const [sha, stored] of await getLatestAnalyses(db, missed)) if (stored) out.set(sha, stored);
  return out;
}
