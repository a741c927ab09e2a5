/**
 * The transaction body of the report writer: stores several units with a handful of multi-row
 * statements. Runs on the main thread (PostgreSQL) or in the SQLite commit thread, so everything
 * it receives is plain, structured-cloneable data (dedup keys already resolved).
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { NewReport } from '../db/tables.ts';
import { idTime, newId, nowIso, randomSecret } from '../core/ids.ts';
import { AppError, type ErrorCode } from '../core/errors.ts';
import { encodeContent, type HashedMessage, type PreparedMessage } from './store.ts';
import type { ReportFields, StoredReport } from './report-input.ts';

/** Rows per multi-row INSERT: far below SQLite's 32,766 and PostgreSQL's 65,535 bound variables. */
const ROWS_PER_STATEMENT = 400;
/** Evidence bytes per multi-row INSERT, so one statement never carries hundreds of megabytes. */
const BYTES_PER_STATEMENT = 16 * 1024 * 1024;

/** A report as it crosses to the committer: no raw bytes (they are in `message`), key resolved. */
export type WireInput = Omit<ReportFields, 'dedupKey'> & { dedupKey: string | null };

/**
 * A unit's messages arrive compressed ({@link PreparedMessage}, main-thread commits) or only
 * hashed ({@link HashedMessage}, the SQLite commit thread, which compresses what is new).
 */
export interface WireUnit {
  items: { input: WireInput; message: PreparedMessage | HashedMessage }[];
}

function isPrepared(m: PreparedMessage | HashedMessage): m is PreparedMessage {
  return 'content' in m;
}

/** Compresses a hashed message for storage (a prepared one is returned as it is). */
export function toPrepared(m: PreparedMessage | HashedMessage): PreparedMessage {
  if (isPrepared(m)) return m;
  const { codec, content } = encodeContent(m.raw);
  return { sha256: m.sha256, kind: m.kind, size: m.size, codec, content };
}

/**
 * Compresses, before the write transaction, the hashed messages whose evidence is not stored yet
 * (a read under WAL takes no lock), so the writer holds the lock only for the inserts. Evidence
 * already stored is not compressed at all. Returns units whose new messages are all prepared;
 * anything that lands between this read and the transaction is handled there.
 */
export async function compressNewEvidence(db: Kysely<Database>, units: WireUnit[]): Promise<WireUnit[]> {
  const hashed = [
    ...new Set(units.flatMap((u) => u.items.filter((it) => !isPrepared(it.message)).map((it) => it.message.sha256))),
  ];
  if (hashed.length === 0) return units;
  const stored = new Set<string>();
  for (const part of chunks(hashed)) {
    const rows = await db.selectFrom('messages').select('sha256').where('sha256', 'in', part).execute();
    for (const r of rows) stored.add(r.sha256);
  }
  const done = new Map<string, PreparedMessage>();
  return units.map((u) => ({
    items: u.items.map((it) => {
      const m = it.message;
      if (isPrepared(m) || stored.has(m.sha256)) return it;
      let p = done.get(m.sha256);
      if (!p) {
        p = toPrepared(m);
        done.set(m.sha256, p);
      }
      return { input: it.input, message: p };
    }),
  }));
}

/** An error as it crosses back: enough to rebuild an AppError or a driver error with its code. */
export interface WireError {
  message: string;
  code?: string;
  appCode?: ErrorCode;
}

export type CommitResponse = { id: number; ok: StoredReport[][] } | { id: number; error: WireError };

export function toWireError(e: unknown): WireError {
  if (e instanceof AppError) return { message: e.message, appCode: e.code };
  const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
  return { message: e instanceof Error ? e.message : String(e), ...(code ? { code } : {}) };
}

export function fromWireError(w: WireError): Error {
  if (w.appCode) return new AppError(w.appCode, w.message);
  return Object.assign(new Error(w.message), w.code ? { code: w.code } : {});
}

function chunks<T>(rows: T[], size: (row: T) => number = () => 0): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const r of rows) {
    const b = size(r);
    if (cur.length > 0 && (cur.length >= ROWS_PER_STATEMENT || bytes + b > BYTES_PER_STATEMENT)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(r);
    bytes += b;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Stores several units in one transaction with a handful of multi-row statements: look up dedup
 * keys and known evidence, then insert new evidence, reports and, when `nextJob` is set, the job
 * each new report becomes (app/pipeline.ts's `FIRST_JOB`).
 */
export async function storeUnits(
  trx: Kysely<Database>,
  units: WireUnit[],
  nextJob: string | null,
): Promise<StoredReport[][]> {
  const keys = units.flatMap((u) => u.items.map((it) => it.input.dedupKey));
  const wantedKeys = [...new Set(keys.filter((k): k is string => k !== null))];
  const existing = new Map<string, { id: string; sha256: string; trackingToken: string }>();
  for (const part of chunks(wantedKeys)) {
    // Through `report_keys` (0230): its unique dedup_key holds on a partitioned `reports` too.
    const rows = await trx
      .selectFrom('report_keys as k')
      .innerJoin('reports as r', 'r.id', 'k.report_id')
      .select(['r.id', 'r.message_sha256', 'k.tracking_token', 'k.dedup_key'])
      .where('k.dedup_key', 'in', part)
      .execute();
    for (const r of rows)
      if (r.dedup_key)
        existing.set(r.dedup_key, { id: r.id, sha256: r.message_sha256, trackingToken: r.tracking_token });
  }

  const now = nowIso();
  const reportRows: NewReport[] = [];
  const newMessages = new Map<string, PreparedMessage | HashedMessage>();
  const out: StoredReport[][] = [];
  let k = 0;
  for (const u of units) {
    const stored: StoredReport[] = [];
    for (const it of u.items) {
      const dedupKey = keys[k++];
      const { input, message } = it;
      const prior = dedupKey === null ? undefined : existing.get(dedupKey);
      if (prior) {
        if (input.dedupRequiresSameMessage && prior.sha256 !== message.sha256) {
          throw new AppError('CONFLICT', 'This idempotency key was already used for a different message.');
        }
        stored.push({
          id: prior.id,
          sha256: prior.sha256,
          size: message.size,
          trackingToken: prior.trackingToken,
          duplicate: true,
        });
        continue;
      }
      const id = newId();
      const trackingToken = randomSecret(18);
      if (dedupKey !== null) existing.set(dedupKey, { id, sha256: message.sha256, trackingToken });
      newMessages.set(message.sha256, message);
      reportRows.push({
        id,
        message_sha256: message.sha256,
        channel: input.channel,
        received_at: input.receivedAt ?? now,
        reporter_user_id: input.reporterUserId ?? null,
        reporter_token_id: input.reporterTokenId ?? null,
        reporter_address: input.reporterAddress ?? null,
        client_ip: input.clientIp ?? null,
        note: input.note ?? null,
        quality: input.quality ?? 'full',
        dedup_key: dedupKey,
        context: input.context ? JSON.stringify(input.context) : null,
        tracking_token: trackingToken,
        historical: input.historical ? 1 : 0,
      });
      stored.push({ id, sha256: message.sha256, size: message.size, trackingToken, duplicate: false });
    }
    out.push(stored);
  }
  if (reportRows.length === 0) return out;

  // Evidence already stored is not sent again (a popular spam is reported thousands of times).
  const shas = [...newMessages.keys()];
  for (const part of chunks(shas)) {
    // (Evidence whose bytes retention dropped is stored again: the hash proves it is the same.)
    const rows = await trx
      .selectFrom('messages')
      .select('sha256')
      .where('sha256', 'in', part)
      .where('codec', '!=', 'expired')
      .execute();
    for (const r of rows) newMessages.delete(r.sha256);
  }
  // Normally compressed already (before the transaction); a message that turned out new only now
  // is compressed here.
  for (const part of chunks([...newMessages.values()].map(toPrepared), (m) => m.content.length)) {
    await trx
      .insertInto('messages')
      .values(
        part.map((m) => ({
          sha256: m.sha256,
          kind: m.kind,
          size: m.size,
          codec: m.codec,
          content: m.content,
          first_seen_at: now,
        })),
      )
      .onConflict((oc) =>
        oc
          .column('sha256')
          .doUpdateSet({ codec: sql`excluded.codec`, content: sql`excluded.content` })
          .where('messages.codec', '=', 'expired'),
      )
      .execute();
  }
  await insertReportRows(trx, reportRows);
  if (nextJob !== null)
    for (const part of chunks(reportRows)) {
      await trx
        .insertInto('jobs')
        .values(
          part.map((r) => ({
            id: newId(),
            kind: nextJob,
            payload: JSON.stringify({ reportId: r.id, sha256: r.message_sha256 }),
            state: 'queued',
            // Due at the report's intake time (its id's), as the later stages' jobs: the campaign
            // stage waits for every job due before its own (workers/jobs.ts claimJobsInOrder).
            run_at: idTime(r.id, Date.parse(now)).toISOString(),
            attempts: 0,
            locked_by: null,
            locked_at: null,
            last_error: null,
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
    }
  return out;
}

/**
 * Inserts report rows with their `report_keys` rows (0230), the keys first: a concurrent twin
 * fails on report_keys' unique dedup_key (the writer retries the unit alone and finds the twin's
 * report). The one way a report row is written, also by tests that build reports by hand.
 */
export async function insertReportRows(db: Kysely<Database>, rows: NewReport[]): Promise<void> {
  for (const part of chunks(rows)) {
    await db
      .insertInto('report_keys')
      .values(part.map((r) => ({ report_id: r.id, dedup_key: r.dedup_key ?? null, tracking_token: r.tracking_token })))
      .execute();
    await db.insertInto('reports').values(part).execute();
  }
}
