/**
 * Storing and reading analyses (Kysely repository functions taking `db`, dialect-agnostic).
 */
import type { Insertable, Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { LOCK_CLASS, lockNames } from '../db/xact-locks.ts';
import { ANALYSER_VERSION, AnalysisSchema, type Analysis } from './analysis-schema.ts';
import { orgDomain } from './indicators/sender.ts';
import type { AnalysesTable, IndicatorKind } from '../db/analysis-tables.ts';

/** Longest indicator value indexed (a btree entry must stay well under PostgreSQL's ~2.7 kB). */
export const MAX_INDICATOR_VALUE = 1000;

/** The indicator rows of an analysis, deduplicated. */
export function indicatorRows(a: Analysis): { kind: IndicatorKind; value: string }[] {
  const seen = new Set<string>();
  const out: { kind: IndicatorKind; value: string }[] = [];
  const add = (kind: IndicatorKind, value: string | null | undefined) => {
    if (!value) return;
    const v = value.trim().slice(0, MAX_INDICATOR_VALUE);
    const key = `${kind}\u0000${v}`;
    if (!v || seen.has(key)) return;
    seen.add(key);
    out.push({ kind, value: v });
  };
  for (const u of a.indicators.urls) {
    add('url', u.url);
    add('domain', u.registrableDomain ?? u.host);
    if (u.registrableDomain === null) add('ip', u.host.replace(/^\[|\]$/g, ''));
  }
  const s = a.indicators.sender;
  for (const e of [...a.indicators.emails, s.from, s.replyTo, s.returnPath, s.sender]) {
    if (!e?.includes('@')) continue;
    add('email', e.toLowerCase());
    add('domain', orgDomain(e));
  }
  for (const p of a.indicators.phones) add('phone', p.e164);
  for (const w of a.indicators.wallets) add('wallet', w.address);
  if (a.traceback.origin) add('ip', a.traceback.origin.ip);
  return out;
}

/** The rows one stored analysis is: its `analyses` row and its indicator rows. */
export interface AnalysisRows {
  analysis: Insertable<AnalysesTable>;
  indicators: { message_sha256: string; kind: IndicatorKind; value: string }[];
}

/**
 * The rows of an analysis (its JSON among them), made before the transaction that writes them: a
 * transaction holds SQLite's one write lock, which the intake's report commits wait for (issue 17).
 */
export function analysisRows(a: Analysis, durationMs: number): AnalysisRows {
  const from = a.indicators.sender.from ?? a.parse.from[0]?.address ?? null;
  const origin = a.enrichment.origin;
  return {
    analysis: {
      message_sha256: a.sha256,
      version: a.analyserVersion,
      analysed_at: a.analysedAt,
      duration_ms: Math.round(durationMs * 1000) / 1000,
      error: a.error ? `${a.error.code}: ${a.error.message}` : null,
      json: JSON.stringify(a),
      subject: a.parse.subject?.slice(0, 1000) ?? null,
      from_address: from?.slice(0, 320) ?? null,
      from_domain: from ? orgDomain(from).slice(0, 253) || null : null,
      origin_ip: a.traceback.origin?.ip ?? null,
      origin_asn: origin?.asn ?? null,
      origin_country: origin?.country?.slice(0, 2) ?? null,
    },
    indicators: indicatorRows(a).map((r) => ({ message_sha256: a.sha256, ...r })),
  };
}

/** Writes the rows of {@link analysisRows} (replacing those of the same message and version). */
export async function writeAnalysisRows(db: Kysely<Database>, rows: AnalysisRows): Promise<void> {
  const sha256 = rows.analysis.message_sha256;
  // An upsert: two workers may analyse the same new evidence at once (reports racing in). The new
  // values are taken from `excluded`, so the record's JSON is bound once, not twice.
  await db
    .insertInto('analyses')
    .values(rows.analysis)
    .onConflict((oc) =>
      oc.columns(['message_sha256', 'version']).doUpdateSet((eb) =>
        Object.fromEntries(
          Object.keys(rows.analysis)
            .filter((c) => c !== 'message_sha256' && c !== 'version')
            .map((c) => [c, eb.ref(`excluded.${c}` as `excluded.${keyof AnalysesTable}`)]),
        ),
      ),
    )
    .execute();
  await db.deleteFrom('message_indicators').where('message_sha256', '=', sha256).execute();
  for (let i = 0; i < rows.indicators.length; i += 200) {
    await db
      .insertInto('message_indicators')
      .values(rows.indicators.slice(i, i + 200))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

/** Stores an analysis (replacing one of the same message and version) and its indicators. */
export async function storeAnalysis(db: Kysely<Database>, a: Analysis, durationMs: number): Promise<void> {
  await writeAnalysisRows(db, analysisRows(a, durationMs));
}

function parseStored(json: string): Analysis | null {
  try {
    const r = AnalysisSchema.safeParse(JSON.parse(json));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/** The analysis of a message at `version` (default: the current one), or null. */
export async function getAnalysis(
  db: Kysely<Database>,
  sha256: string,
  version: string = ANALYSER_VERSION,
): Promise<Analysis | null> {
  const row = await db
    .selectFrom('analyses')
    .select('json')
    .where('message_sha256', '=', sha256)
    .where('version', '=', version)
    .executeTakeFirst();
  return row ? parseStored(row.json) : null;
}

/** The most recent analysis of a message, whatever its version, or null. */
export async function getLatestAnalysis(db: Kysely<Database>, sha256: string): Promise<Analysis | null> {
  const row = await db
    .selectFrom('analyses')
    .select('json')
    .where('message_sha256', '=', sha256)
    .orderBy('analysed_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? parseStored(row.json) : null;
}

/**
 * The latest stored analysis of each of these messages, as {@link getLatestAnalysis} returns it, in
 * one statement per 500 messages (the web indexer reads a batch of reports at once, issue 17).
 * A message with a stored analysis that cannot be read maps to null; one with none is absent.
 */
export async function getLatestAnalyses(
  db: Kysely<Database>,
  sha256s: readonly string[],
): Promise<Map<string, Analysis | null>> {
  const wanted = [...new Set(sha256s)];
  const latest = new Map<string, { at: string; json: string }>();
  for (let i = 0; i < wanted.length; i += 500) {
    const rows = await db
      .selectFrom('analyses')
      .select(['message_sha256', 'analysed_at', 'json'])
      .where('message_sha256', 'in', wanted.slice(i, i + 500))
      .execute();
    for (const r of rows) {
      const l = latest.get(r.message_sha256);
      if (!l || r.analysed_at > l.at) latest.set(r.message_sha256, { at: r.analysed_at, json: r.json });
    }
  }
  const out = new Map<string, Analysis | null>();
  for (const [sha, l] of latest) out.set(sha, parseStored(l.json));
  return out;
}

/**
 * Of these messages, those whose latest stored analysis is no longer the record a later stage worked
 * from (its `analysedAt`): a retrace or a re-analysis stored a newer one since the stage read it. Call
 * it in the stage's transaction before its other locks: it takes the messages' `analysisMessage`
 * locks first (PostgreSQL; on SQLite the transaction is already the only writer), so a retrace of the
 * same messages commits either before — and is seen here — or after, and then finds what the stage
 * wrote and brings it up to date. Without it, a stage of another loop or process that read the old
 * record before the retrace committed wrote facts from it after, and nothing corrected them.
 */
export async function analysesMovedSince(
  db: Kysely<Database>,
  used: readonly { sha256: string; analysedAt: string }[],
): Promise<Set<string>> {
  const moved = new Set<string>();
  if (used.length === 0) return moved;
  const shas = [...new Set(used.map((u) => u.sha256))];
  await lockNames(db, LOCK_CLASS.analysisMessage, shas);
  const latest = new Map<string, string>();
  for (let i = 0; i < shas.length; i += 500) {
    const rows = await db
      .selectFrom('analyses')
      .select(['message_sha256', 'analysed_at'])
      .where('message_sha256', 'in', shas.slice(i, i + 500))
      .execute();
    for (const r of rows) {
      const l = latest.get(r.message_sha256);
      if (l === undefined || r.analysed_at > l) latest.set(r.message_sha256, r.analysed_at);
    }
  }
  for (const u of used) {
    const l = latest.get(u.sha256);
    if (l !== undefined && l !== u.analysedAt) moved.add(u.sha256);
  }
  return moved;
}

/** Which of these messages already have an analysis at the current version. */
export async function analysedAtCurrentVersion(db: Kysely<Database>, sha256s: readonly string[]): Promise<Set<string>> {
  if (sha256s.length === 0) return new Set();
  const rows = await db
    .selectFrom('analyses')
    .select('message_sha256')
    .where('version', '=', ANALYSER_VERSION)
    .where('message_sha256', 'in', [...new Set(sha256s)])
    .execute();
  return new Set(rows.map((r) => r.message_sha256));
}

/** Messages whose indicators include `value` of `kind` (search). */
export async function messagesWithIndicator(
  db: Kysely<Database>,
  kind: IndicatorKind,
  value: string,
  limit = 100,
): Promise<string[]> {
  const rows = await db
    .selectFrom('message_indicators')
    .select('message_sha256')
    .where('kind', '=', kind)
    .where('value', '=', value)
    .limit(limit)
    .execute();
  return rows.map((r) => r.message_sha256);
}
