/**
 * A diagnostic for finding where a process's database time goes: with `SPAMDESK_SQL_PROFILE=/some/prefix` in the
 * environment, every statement run through `openDatabase` (and every commit) is timed on the calling thread
 * ({@link timed}), summed per statement text (each run of `?` placeholders written once: `in (?, ?, ?)` and
 * `in (?, ?)` count together; a multi-row insert still counts by its number of rows), and written when the process
 * or thread ends to `<prefix>.<pid>.<threadId>.json`, costliest first: `[{ "sql": "commit", "n": 596, "ms": 3512.4
 * }, …]`. Off (the default), nothing is timed. It split the background process's main thread between SQL and the
 * rest (issue 17, bench/RESULTS.md 2026-12-08).
 */
import fs from 'node:fs';
import { threadId } from 'node:worker_threads';

/** The statements seen so far: text → how many, total ms. */
export type SqlProfile = Map<string, { n: number; ms: number }>;

const PREFIX = process.env.SPAMDESK_SQL_PROFILE ?? '';
const profile: SqlProfile = new Map();

/** Whether statements are timed in this process. */
export const sqlProfiling = PREFIX !== '';

/** The key a statement is summed under: its text with each run of placeholders written once, at most 300 characters. */
export function statementKey(sql: string): string {
  return sql
    .replace(/\?(?:, \?)+/g, '?, …')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

/** Adds one statement's time to `into` (the process's profile by default). */
export function addStatement(sql: string, ms: number, into: SqlProfile = profile): void {
  const k = statementKey(sql);
  const e = into.get(k);
  if (e) {
    e.n++;
    e.ms += ms;
  } else into.set(k, { n: 1, ms });
}

/**
 * Runs `run` and adds the time the call itself took under `sql`: the calling thread's own time. SQLite answers
 * within the call (a commit includes its fsync); PostgreSQL's answer comes later and is not waited for here, so
 * there the figure is only what preparing and sending the statement cost this thread.
 */
export function timed<T>(sql: string, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const p = run();
  addStatement(sql, performance.now() - t0);
  return p;
}

/** The profile as written: statements costliest first. */
export function profileRows(from: SqlProfile = profile): { sql: string; n: number; ms: number }[] {
  return [...from]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([sql, e]) => ({ sql, n: e.n, ms: Math.round(e.ms * 10) / 10 }));
}

if (sqlProfiling)
  process.on('exit', () => {
    fs.writeFileSync(`${PREFIX}.${process.pid}.${threadId}.json`, `${JSON.stringify(profileRows(), null, 1)}\n`);
  });
