/**
 * Retention and erasure (DESIGN.md "Privacy and law": retention is configurable; a reporter can
 * have their reports erased; evidence shared with an authority is kept under that authority's
 * case).
 *
 * Four kinds of data, four periods (core/config.ts, 0 = forever):
 * - reporter identity (`retentionIdentityDays`): the report's reporter address or number, account
 *   and token links, client IP, note, idempotency key and the identity parts of its context
 *   (forwarding wrapper, SMTP envelope, file name) are cleared; the report stays;
 * - raw evidence (`retentionRawDays`, counted from the last report of a message): the bytes are
 *   dropped (codec `expired`; hash, size and reports stay) with what was derived from them (the
 *   analysis, its indicators, search terms, the subject and sender in the report index);
 * - reports (`retentionReportsDays`): the report and every row derived from it are deleted, then
 *   evidence no other report points at; campaign and statistics roll-ups keep their counts;
 * - audit (`retentionAuditDays`): the oldest entries are pruned behind a checkpoint.
 * Reports and evidence under a case that was referred to an authority are exempt from the raw and
 * reports periods (their reporter identity is still cleared).
 *
 * This module touches the tables of every area that keeps per-report or per-message rows; they
 * are named through the typed schema, so a renamed table fails to compile here.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Config } from '../core/config.ts';
import { nowIso, randomSecret } from '../core/ids.ts';
import { reporterAddressKey } from '../core/reporter-key.ts';
import { LOCK_CLASS, lockNames } from '../db/xact-locks.ts';
import { CODECS } from './store.ts';
import { pruneAudit, writeAudit } from './audit.ts';
import {
  dropPartitionKeeping,
  isPartitioned,
  listPartitions,
  monthBound,
  type Partition,
  type PartitionedTable,
  REPORT_TABLES,
} from '../db/partitions.ts';

/** Rows changed per statement (bounded IN lists and transactions). */
const BATCH = 500;
const DAY_MS = 86_400_000;

/** Context keys that say nothing about the reporter; everything else is identity (wrapper, envelope…). */
const CONTEXT_KEEP = new Set([
  'how',
  'recoveredHeaders',
  'feedbackType',
  'wholeMail',
  'source',
  'shortNumber',
  'senderUnknown',
  'senderAsReported',
  'consent',
  'form',
  'senderAsTyped',
  'partner',
  'packageId',
  'packageSha256',
  'remoteCaseId',
  'remoteInstance',
  'originalSha256',
  'redactedCopy',
  'remoteReportCount',
  'firstReportedAt',
  'lastReportedAt',
  'identityErased',
]);

/** A report context without the reporter's identity. */
export function contextWithoutIdentity(context: string | null): string {
  let parsed: unknown = null;
  try {
    parsed = context ? JSON.parse(context) : null;
  } catch {
    parsed = null;
  }
  const out: Record<string, unknown> = { identityErased: true };
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    for (const [k, v] of Object.entries(parsed)) {
      if (CONTEXT_KEEP.has(k)) out[k] = v;
      else if (k === 'part' && v && typeof v === 'object') {
        const { index, of, transferEncoding } = v as Record<string, unknown>;
        out.part = { index, of, transferEncoding };
      }
    }
  }
  return JSON.stringify(out);
}

/** Report ids among `ids` that belong to a case referred to an authority (kept as evidence). */
export async function referredAmong(db: Kysely<Database>, ids: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < ids.length; i += BATCH) {
    const rows = await db
      .selectFrom('action_case_reports as cr')
      .select('cr.report_id')
      .where('cr.report_id', 'in', ids.slice(i, i + BATCH))
      .where(({ exists, selectFrom }) =>
        exists(selectFrom('action_referrals as rf').select('rf.id').whereRef('rf.case_id', '=', 'cr.case_id')),
      )
      .execute();
    for (const r of rows) out.add(r.report_id);
  }
  return out;
}

/** Clears the reporter's identity from reports (the reports and their evidence stay). */
export async function clearIdentity(
  db: Kysely<Database>,
  ids: readonly string[],
  opts: { revokeTracking?: boolean } = {},
): Promise<number> {
  let n = 0;
  for (let i = 0; i < ids.length; i += BATCH) {
    const chunk = ids.slice(i, i + BATCH);
    await db.transaction().execute(async (trx) => {
      const rows = await trx.selectFrom('reports').select(['id', 'context']).where('id', 'in', chunk).execute();
      for (const r of rows) {
        const revoked = opts.revokeTracking ? randomSecret(32) : null;
        await trx
          .updateTable('reports')
          .set({
            reporter_address: null,
            reporter_user_id: null,
            reporter_token_id: null,
            client_ip: null,
            note: null,
            dedup_key: null,
            context: contextWithoutIdentity(r.context),
            // After an erasure the reporter's private tracking link stops working too.
            ...(revoked ? { tracking_token: revoked } : {}),
          })
          .where('id', '=', r.id)
          .execute();
        await trx
          .updateTable('report_keys')
          .set({ dedup_key: null, ...(revoked ? { tracking_token: revoked } : {}) })
          .where('report_id', '=', r.id)
          .execute();
      }
      await trx
        .updateTable('web_report_index')
        .set({ reporter_user_id: null })
        .where('report_id', 'in', chunk)
        .execute();
      n += rows.length;
    });
  }
  return n;
}

/**
 * Deletes reports (never referred ones: callers exclude them) with every row derived from them,
 * then the evidence no remaining report points at. Returns how many messages went.
 */
export async function deleteReports(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<{ reports: number; messages: number }> {
  let reports = 0;
  let messages = 0;
  for (let i = 0; i < ids.length; i += BATCH) {
    const chunk = ids.slice(i, i + BATCH);
    const r = await db.transaction().execute(async (trx) => {
      const shas = [
        ...new Set(
          (await trx.selectFrom('reports').select('message_sha256').where('id', 'in', chunk).execute()).map(
            (x) => x.message_sha256,
          ),
        ),
      ];
      await deleteDerived(trx, chunk);
      const deleted = await trx.deleteFrom('reports').where('id', 'in', chunk).executeTakeFirst();
      return { reports: Number(deleted.numDeletedRows), messages: await deleteOrphans(trx, shas) };
    });
    reports += r.reports;
    messages += r.messages;
  }
  return { reports, messages };
}

/**
 * Deletes the rows derived from reports `chunk` (not the reports). `wholeBelow` names, for a
 * partitioned per-report table, the id below which its partitions are dropped whole afterwards:
 * its rows of those reports are left to that drop.
 */
async function deleteDerived(
  trx: Kysely<Database>,
  chunk: readonly string[],
  wholeBelow: ReadonlyMap<string, string> = new Map(),
): Promise<void> {
  const rowsOf = (table: string): string[] => {
    const below = wholeBelow.get(table);
    return below === undefined ? [...chunk] : chunk.filter((id) => id >= below);
  };
  const terms = rowsOf('web_report_terms');
  if (terms.length) await trx.deleteFrom('web_report_terms').where('report_id', 'in', terms).execute();
  await trx.deleteFrom('web_report_marks').where('report_id', 'in', chunk).execute();
  const index = rowsOf('web_report_index');
  if (index.length) await trx.deleteFrom('web_report_index').where('report_id', 'in', index).execute();
  await trx.deleteFrom('relabels').where('report_id', 'in', chunk).execute();
  const facts = rowsOf('action_report_facts');
  if (facts.length) await trx.deleteFrom('action_report_facts').where('report_id', 'in', facts).execute();
  // The cases that held them count again from their remaining reports when next read (0180). Their
  // tally lock first, as every change to a case's reports takes it: a backfill step running for one
  // of them (case-tally-backfill.ts) ends before its rows go, instead of writing its build row back
  // after this delete and leaving a count of reports that no longer exist.
  const cases = (
    await trx.selectFrom('action_case_reports').select('case_id').distinct().where('report_id', 'in', chunk).execute()
  ).map((r) => r.case_id);
  if (cases.length > 0) {
    await lockNames(trx, LOCK_CLASS.caseTally, cases);
    await trx.deleteFrom('action_case_tallies').where('case_id', 'in', cases).execute();
  }
  await trx.deleteFrom('action_case_reports').where('report_id', 'in', chunk).execute();
  await trx.deleteFrom('action_fbl_sent').where('report_id', 'in', chunk).execute();
  await trx.deleteFrom('report_keys').where('report_id', 'in', chunk).execute();
}

/** Deletes the evidence among `shas` that no report points at any more, with its analysis. Returns how many. */
async function deleteOrphans(trx: Kysely<Database>, shas: readonly string[]): Promise<number> {
  const still = new Set(
    shas.length
      ? (await trx.selectFrom('reports').select('message_sha256').where('message_sha256', 'in', shas).execute()).map(
          (x) => x.message_sha256,
        )
      : [],
  );
  const orphans = shas.filter((s) => !still.has(s));
  if (orphans.length > 0) {
    await trx.deleteFrom('message_indicators').where('message_sha256', 'in', orphans).execute();
    await trx.deleteFrom('analyses').where('message_sha256', 'in', orphans).execute();
    await trx.deleteFrom('classifications').where('sha256', 'in', orphans).execute();
    await trx.deleteFrom('relabels').where('message_sha256', 'in', orphans).execute();
    await trx.deleteFrom('messages').where('sha256', 'in', orphans).execute();
  }
  return orphans.length;
}

export interface PartitionRetention {
  /** The partitions replaced (each by one holding only its referred reports). */
  partitions: string[];
  reportsDropped: number;
  messagesDeleted: number;
  keptForAuthorities: number;
}

/**
 * PostgreSQL, `SPAMDESK_RETENTION_PARTITION_MONTHS`: every partition of `reports` whose whole id
 * range (creation month) is older than `months` months is dropped whole (db/partitions.ts). A
 * report is created when it is received or later, so every report in it was received before the
 * cut-off. First the rows derived from its reports are deleted, except for reports under a case
 * referred to an authority; then, in one short transaction, those referred reports move into a
 * fresh partition for the same range and the old one is dropped; then the evidence nobody reports
 * any more goes, as with {@link deleteReports}.
 */
export async function dropExpiredPartitions(
  db: Kysely<Database>,
  months: number,
  now = new Date(),
): Promise<PartitionRetention> {
  const out: PartitionRetention = { partitions: [], reportsDropped: 0, messagesDeleted: 0, keptForAuthorities: 0 };
  if (months <= 0 || !(await isPartitioned(db))) return out;
  const cut = monthBound(now, -months);
  // The per-report tables' partitions wholly before the cut go whole after the reports' (their
  // first partition may reach past the cut: its rows of dropped reports are deleted one by one).
  const derived: { spec: PartitionedTable; parts: Partition[] }[] = [];
  const wholeBelow = new Map<string, string>();
  for (const spec of REPORT_TABLES) {
    if (!(await isPartitioned(db, spec.table))) continue;
    const parts = (await listPartitions(db, spec.table)).filter((p) => p.to !== null && p.to <= cut);
    derived.push({ spec, parts });
    wholeBelow.set(
      spec.table,
      parts.reduce((max, p) => (p.to !== null && p.to > max ? p.to : max), ''),
    );
  }
  for (const part of await listPartitions(db)) {
    if (part.to === null || part.to > cut) continue;
    const lo = part.from ?? '';
    const hi = part.to;
    const shas = new Set<string>();
    let dropping = 0;
    for (let after = ''; ; ) {
      const rows = await db
        .selectFrom('reports')
        .select(['id', 'message_sha256'])
        .where('id', '>=', lo)
        .where('id', '<', hi)
        .where('id', '>', after)
        .orderBy('id')
        .limit(BATCH)
        .execute();
      if (rows.length === 0) break;
      after = rows[rows.length - 1].id;
      const referred = await referredAmong(
        db,
        rows.map((r) => r.id),
      );
      const gone = rows.filter((r) => !referred.has(r.id));
      for (const r of gone) shas.add(r.message_sha256);
      dropping += gone.length;
      if (gone.length > 0)
        await db.transaction().execute((trx) =>
          deleteDerived(
            trx,
            gone.map((r) => r.id),
            wholeBelow,
          ),
        );
    }
    // A partition that holds only referred reports already (a previous run's) stays as it is.
    if (dropping === 0) continue;
    let kept = 0;
    out.reportsDropped += await dropPartitionKeeping(db, part, async (trx) => {
      const ids = (
        await trx
          .selectFrom('action_case_reports as cr')
          .select('cr.report_id')
          .distinct()
          .where('cr.report_id', '>=', lo)
          .where('cr.report_id', '<', hi)
          .where(({ exists, selectFrom }) =>
            exists(selectFrom('action_referrals as rf').select('rf.id').whereRef('rf.case_id', '=', 'cr.case_id')),
          )
          .execute()
      ).map((r) => r.report_id);
      kept = ids.length;
      return ids;
    });
    out.keptForAuthorities += kept;
    out.partitions.push(part.name);
    const list = [...shas];
    for (let i = 0; i < list.length; i += BATCH)
      out.messagesDeleted += await db.transaction().execute((trx) => deleteOrphans(trx, list.slice(i, i + BATCH)));
  }
  for (const { spec, parts } of derived)
    for (const part of parts) {
      const lo = part.from ?? '';
      const hi = part.to ?? '';
      // Its reports are gone but the referred ones (kept in the reports' partition swap).
      const keepOf = (trx: Kysely<Database>) =>
        trx
          .selectFrom('reports')
          .select('id')
          .where('id', '>=', lo)
          .where('id', '<', hi)
          .execute()
          .then((rows) => rows.map((r) => r.id));
      const keep = new Set(await keepOf(db));
      if (!(await holdsOtherThan(db, part.name, spec.key, keep))) continue;
      await dropPartitionKeeping(db, part, keepOf, spec);
      out.partitions.push(part.name);
    }
  return out;
}

/** Whether partition `name` holds a row whose report id (`key`) is not in `keep` (the few referred ones). */
async function holdsOtherThan(
  db: Kysely<Database>,
  name: string,
  key: string,
  keep: ReadonlySet<string>,
): Promise<boolean> {
  const ids = [...keep];
  const r =
    ids.length === 0
      ? await sql`select 1 from ${sql.table(name)} limit 1`.execute(db)
      : await sql`select 1 from ${sql.table(name)} where ${sql.ref(key)} not in (${sql.join(ids)}) limit 1`.execute(db);
  return r.rows.length > 0;
}

export interface RetentionRun {
  identityCleared: number;
  rawExpired: number;
  reportsDeleted: number;
  messagesDeleted: number;
  auditPruned: number;
  /** Reports the raw or reports period would have removed but a referral keeps. */
  keptForAuthorities: number;
  /** PostgreSQL: the partitions of `reports` dropped whole (present only when some were). */
  partitionsDropped?: string[];
}

function cutoff(now: Date, days: number): string | null {
  return days > 0 ? new Date(now.getTime() - days * DAY_MS).toISOString() : null;
}

/** Applies every retention period once. */
export async function applyRetention(db: Kysely<Database>, config: Config, now = new Date()): Promise<RetentionRun> {
  const run: RetentionRun = {
    identityCleared: 0,
    rawExpired: 0,
    reportsDeleted: 0,
    messagesDeleted: 0,
    auditPruned: 0,
    keptForAuthorities: 0,
  };
  const kept = new Set<string>();

  const identityBefore = cutoff(now, config.retentionIdentityDays);
  if (identityBefore) {
    for (let after = ''; ; ) {
      const ids = (
        await db
          .selectFrom('reports')
          .select('id')
          .where('received_at', '<', identityBefore)
          .where('id', '>', after)
          .where((eb) =>
            eb.or([
              eb('reporter_address', 'is not', null),
              eb('reporter_user_id', 'is not', null),
              eb('reporter_token_id', 'is not', null),
              eb('client_ip', 'is not', null),
              eb('note', 'is not', null),
              eb('dedup_key', 'is not', null),
            ]),
          )
          .orderBy('id')
          .limit(BATCH)
          .execute()
      ).map((r) => r.id);
      if (ids.length === 0) break;
      run.identityCleared += await clearIdentity(db, ids);
      after = ids[ids.length - 1];
    }
  }

  const parts = await dropExpiredPartitions(db, config.retentionPartitionMonths, now);
  run.reportsDeleted += parts.reportsDropped;
  run.messagesDeleted += parts.messagesDeleted;
  if (parts.partitions.length > 0) run.partitionsDropped = parts.partitions;

  const reportsBefore = cutoff(now, config.retentionReportsDays);
  if (reportsBefore) {
    for (let after = ''; ; ) {
      const ids = (
        await db
          .selectFrom('reports')
          .select('id')
          .where('received_at', '<', reportsBefore)
          .where('id', '>', after)
          .orderBy('id')
          .limit(BATCH)
          .execute()
      ).map((r) => r.id);
      if (ids.length === 0) break;
      after = ids[ids.length - 1];
      const referred = await referredAmong(db, ids);
      for (const id of referred) kept.add(id);
      const r = await deleteReports(
        db,
        ids.filter((id) => !referred.has(id)),
      );
      run.reportsDeleted += r.reports;
      run.messagesDeleted += r.messages;
    }
  }

  const rawBefore = cutoff(now, config.retentionRawDays);
  if (rawBefore) {
    for (let after = ''; ; ) {
      const shas = (
        await db
          .selectFrom('messages as m')
          .select('m.sha256')
          .where('m.codec', '!=', CODECS.EXPIRED)
          .where('m.sha256', '>', after)
          .where('m.first_seen_at', '<', rawBefore)
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('reports as r')
                  .select('r.id')
                  .whereRef('r.message_sha256', '=', 'm.sha256')
                  .where('r.received_at', '>=', rawBefore),
              ),
            ),
          )
          .orderBy('m.sha256')
          .limit(BATCH)
          .execute()
      ).map((m) => m.sha256);
      if (shas.length === 0) break;
      after = shas[shas.length - 1];
      const reportIds = (await db.selectFrom('reports').select('id').where('message_sha256', 'in', shas).execute()).map(
        (r) => r.id,
      );
      const referred = await referredAmong(db, reportIds);
      for (const id of referred) kept.add(id);
      const keepShas = new Set(
        referred.size
          ? (
              await db
                .selectFrom('reports')
                .select('message_sha256')
                .where('id', 'in', [...referred])
                .execute()
            ).map((r) => r.message_sha256)
          : [],
      );
      run.rawExpired += await expireRaw(
        db,
        shas.filter((s) => !keepShas.has(s)),
      );
    }
  }

  const auditBefore = cutoff(now, config.retentionAuditDays);
  if (auditBefore) run.auditPruned = await pruneAudit(db, auditBefore);
  run.keptForAuthorities = kept.size + parts.keptForAuthorities;
  if (run.identityCleared + run.rawExpired + run.reportsDeleted + run.auditPruned > 0) {
    await writeAudit(db, {
      actor: 'retention',
      action: 'privacy.retention',
      subject: 'instance',
      detail: { ...run, at: nowIso() },
    });
  }
  return run;
}

/** Drops the bytes of messages and what was derived from their content; hashes and reports stay. */
async function expireRaw(db: Kysely<Database>, shas: readonly string[]): Promise<number> {
  if (shas.length === 0) return 0;
  return db.transaction().execute(async (trx) => {
    const reportIds = (await trx.selectFrom('reports').select('id').where('message_sha256', 'in', shas).execute()).map(
      (r) => r.id,
    );
    for (let i = 0; i < reportIds.length; i += BATCH)
      await trx
        .deleteFrom('web_report_terms')
        .where('report_id', 'in', reportIds.slice(i, i + BATCH))
        .execute();
    await trx
      .updateTable('web_report_index')
      .set({ subject: null, sender: null })
      .where('message_sha256', 'in', shas)
      .execute();
    await trx.deleteFrom('message_indicators').where('message_sha256', 'in', shas).execute();
    await trx.deleteFrom('analyses').where('message_sha256', 'in', shas).execute();
    const r = await trx
      .updateTable('messages')
      .set({ codec: CODECS.EXPIRED, content: Buffer.alloc(0) })
      .where('sha256', 'in', shas)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  });
}

export interface ErasureTarget {
  userId?: string;
  email?: string;
  /** A phone number (SMS reporter), any format. */
  number?: string;
}

export interface ErasureResult {
  reportsDeleted: number;
  messagesDeleted: number;
  /** Reports under a case referred to an authority: kept there, without the reporter's identity. */
  reportsKeptForAuthorities: number;
  accountErased: string | null;
}

/**
 * Erases a reporter: their reports and the evidence only they reported are deleted, except what
 * was referred to an authority, which stays under its case with the reporter's identity cleared;
 * their account is anonymised and disabled, its tokens and sessions deleted.
 */
export async function eraseReporter(
  db: Kysely<Database>,
  target: ErasureTarget,
  actor: string,
): Promise<ErasureResult> {
  const email = target.email?.trim().toLowerCase();
  const user = target.userId
    ? await db.selectFrom('users').select(['id', 'email', 'role']).where('id', '=', target.userId).executeTakeFirst()
    : email
      ? await db.selectFrom('users').select(['id', 'email', 'role']).where('email', '=', email).executeTakeFirst()
      : undefined;
  if (user && user.role !== 'reporter')
    throw new Error(
      `account ${user.id} is a ${user.role} account: staff and partner accounts are disabled, not erased`,
    );
  const digits = target.number?.replace(/\D/g, '') ?? '';
  const addresses = [...new Set([email, user?.email.toLowerCase()].filter((a): a is string => Boolean(a)))];
  const ids = new Set<string>();
  if (user)
    for (const r of await db.selectFrom('reports').select('id').where('reporter_user_id', '=', user.id).execute())
      ids.add(r.id);
  for (const a of addresses)
    for (const r of await db
      .selectFrom('reports')
      .select(['id', 'reporter_address'])
      .where('reporter_address', 'is not', null)
      .where((eb) => eb.fn('lower', ['reporter_address']), '=', a)
      .execute())
      ids.add(r.id);
  if (digits.length >= 6) {
    const numbers = await db
      .selectFrom('reports')
      .select(['id', 'reporter_address'])
      .where('reporter_address', 'like', `%${digits.slice(-6)}`)
      .execute();
    for (const r of numbers)
      if ((r.reporter_address ?? '').replace(/\D/g, '').endsWith(digits.slice(-9))) ids.add(r.id);
    await db
      .deleteFrom('sms_pending')
      .where('reporter_number', 'like', `%${digits.slice(-9)}`)
      .execute();
  }
  const all = [...ids];
  // Mail hosts learned from (or declared for) reports known only by the reporter's address are kept
  // under a hash of that address: found again from the addresses these reports carry.
  const addressKeys = new Set(addresses.map(reporterAddressKey));
  for (let i = 0; i < all.length; i += 500)
    for (const r of await db
      .selectFrom('reports')
      .select('reporter_address')
      .where('id', 'in', all.slice(i, i + 500))
      .where('reporter_address', 'is not', null)
      .execute())
      if (r.reporter_address) addressKeys.add(reporterAddressKey(r.reporter_address));
  const referred = await referredAmong(db, all);
  await clearIdentity(db, [...referred], { revokeTracking: true });
  const removed = await deleteReports(
    db,
    all.filter((id) => !referred.has(id)),
  );
  if (addressKeys.size > 0)
    await db.transaction().execute(async (trx) => {
      const keys = [...addressKeys];
      await trx.deleteFrom('analysis_declared_mailhosts').where('reporter_key', 'in', keys).execute();
      await trx.deleteFrom('analysis_mailhosts').where('reporter_key', 'in', keys).execute();
      await trx.deleteFrom('analysis_mailhost_keys').where('reporter_key', 'in', keys).execute();
    });
  let accountErased: string | null = null;
  if (user) {
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('reports')
        .set({ reporter_token_id: null })
        .where('reporter_token_id', 'in', trx.selectFrom('api_tokens').select('id').where('user_id', '=', user.id))
        .execute();
      // The mail hosts the account declared or that were learned from its reports (its forwarders,
      // its own servers) say where it receives mail: erased with it.
      const keys = [
        `user:${user.id}`,
        ...(await trx.selectFrom('api_tokens').select('id').where('user_id', '=', user.id).execute()).map(
          (t) => `token:${t.id}`,
        ),
      ];
      await trx.deleteFrom('analysis_declared_mailhosts').where('reporter_key', 'in', keys).execute();
      await trx.deleteFrom('analysis_mailhosts').where('reporter_key', 'in', keys).execute();
      await trx.deleteFrom('analysis_mailhost_keys').where('reporter_key', 'in', keys).execute();
      await trx.deleteFrom('api_tokens').where('user_id', '=', user.id).execute();
      await trx.deleteFrom('web_sessions').where('user_id', '=', user.id).execute();
      await trx.deleteFrom('web_login_attempts').where('email', '=', user.email).execute();
      await trx
        .updateTable('users')
        .set({
          email: `erased-${user.id.toLowerCase()}@erased.invalid`,
          name: null,
          password_hash: null,
          disabled_at: nowIso(),
        })
        .where('id', '=', user.id)
        .execute();
    });
    accountErased = user.id;
  }
  const result = {
    reportsDeleted: removed.reports,
    messagesDeleted: removed.messages,
    reportsKeptForAuthorities: referred.size,
    accountErased,
  };
  // The record of the erasure names the account id only, never the erased identity.
  await writeAudit(db, {
    actor,
    action: 'privacy.erasure',
    subject: user ? `user:${user.id}` : 'reporter',
    detail: result,
  });
  return result;
}
