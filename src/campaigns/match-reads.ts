/**
 * The look-up's index reads on SQLite without the query builder: the same four statements as
 * {@link kyselyReads}, prepared once per shape on a read-only connection of their own, run
 * synchronously. Through Kysely each read went through the driver, its connection lock and a
 * promise per statement, interleaved with the other look-ups' on the one thread that answers HTTP:
 * 0.3–0.4 ms of server CPU per look-up at 1,000,000 stored messages, against ≈ 0.1 ms for the
 * statements themselves (issue 17, bench/RESULTS.md).
 *
 * A connection of its own, read-only: each statement sees what is committed, never a transaction
 * the web process has open on its main connection, and cannot write. Text parameters are made safe
 * exactly as on the main connection ({@link safeText}), so the same value finds the same rows.
 */
import BetterSqlite3 from 'better-sqlite3';
import { safeText } from '../db/dialect.ts';
import type { Link } from './fingerprint.ts';
import { MAX_BAND_ROWS, groupLinks, type CampaignRow, type LinkRow, type MatchReads, type RepRow } from './cluster.ts';

/**
 * Page cache of the look-up's connection (KiB), as the web process's connection that serves reads has. Each
 * look-up seeks 16 band keys spread over the whole band index (39 MB at 1,000,000 stored messages):
 * with 16 MiB of cache most seeks read the page again from the OS, 60–83 µs per look-up's band
 * read at 1M against 30–39 µs with 64 MiB (random keys, bench/RESULTS.md 2026-12-05).
 */
export const MATCH_READS_CACHE_KIB = 64 * 1024;

/**
 * How long a read waits for a lock another connection holds for a moment (ms). better-sqlite3 is
 * synchronous: the wait blocks the thread that answers HTTP, every look-up on it, so it stays short.
 */
export const MATCH_READS_BUSY_MS = 1000;

/** Statement shapes kept (one per list length, per link grouping), least recently used dropped first. */
const MAX_STATEMENTS = 256;

export interface SqliteMatchReads extends MatchReads {
  close(): void;
}

const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');
const safe = (v: string) => safeText(v);

/** Opens the reads on the SQLite database file `file` (which must exist: the server migrated it). */
export function openSqliteMatchReads(file: string): SqliteMatchReads {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  db.pragma(`cache_size = -${MATCH_READS_CACHE_KIB}`);
  // A WAL reader is refused only for a moment (another connection recovering the WAL or resetting
  // its index): wait for it as briefly as a look-up may take, rather than answer 500 at once.
  db.pragma(`busy_timeout = ${MATCH_READS_BUSY_MS}`);
  const statements = new Map<string, BetterSqlite3.Statement>();
  // Least recently used shapes go first: a look-up of unusual link counts does not push out the common ones.
  const prepared = (text: string): BetterSqlite3.Statement => {
    let s = statements.get(text);
    if (s === undefined) {
      if (statements.size >= MAX_STATEMENTS) {
        const oldest = statements.keys().next();
        if (!oldest.done) statements.delete(oldest.value);
      }
      s = db.prepare(text);
    } else statements.delete(text);
    statements.set(text, s);
    return s;
  };
  return {
    bandRows: (bands) =>
      prepared(
        `select rep_id from campaign_bands where band_key in (${marks(bands.length)}) order by band_key, rep_id \
limit ${MAX_BAND_ROWS}`,
      ).all(...bands) as { rep_id: string }[],
    reps: (ids) =>
      prepared(`select campaign_id, signature from campaign_reps where id in (${marks(ids.length)})`).all(
        ...ids.map(safe),
      ) as RepRow[],
    links: (links: readonly Link[]) => {
      const groups = groupLinks(links);
      const where = groups.map(([, values]) => `(kind = ? and value in (${marks(values.length)}))`).join(' or ');
      return prepared(`select kind, value, campaign_id, spread from campaign_links where ${where}`).all(
        ...groups.flatMap(([kind, values]) => [safe(kind), ...values.map(safe)]),
      ) as LinkRow[];
    },
    campaigns: (ids) =>
      prepared(
        `select id, merged_into, category, core_signature, core_kind, report_count, message_count, first_seen_at, \
last_seen_at from campaigns where id in (${marks(ids.length)})`,
      ).all(...ids.map(safe)) as CampaignRow[],
    close: () => db.close(),
  };
}
