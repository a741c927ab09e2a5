/**
 * The workbench's report index: one row per report with the facts the list filters on, searchable
 * terms, and daily roll-ups per dimension that the dashboards and public statistics read. Kept
 * up to date incrementally (no scans): new reports are picked up past a watermark on the report id
 * (ULIDs sort by creation), reports waiting for analysis or classification are looked at again
 * until they have both, and relabels / false-report marks re-index their report at once.
 */
import { actionableOrigin } from '../analysis/actionable-origin.ts';
import { advertisedUrls } from '../analysis/advertised.ts';
import { sql, type Kysely, type Transaction } from 'kysely';
import { addressParser, decodeWords } from 'postal-mime';
import { headerValue, parseHeaderBlock } from '../mail/mime-walk.ts';
import { decodeTime, encodeTime } from 'ulid';
import { arrivalOrReceived, messageTimes } from '../analysis/message-times.ts';
import { getDomain } from 'tldts';
import type { Database } from '../db/schema.ts';
import { nowIso, sha256Hex } from '../core/ids.ts';
import { getMessageRaw } from '../evidence/store.ts';
import { parkFailure, reasonOf } from '../db/park.ts';
import { LOCK_CLASS, lockNames } from '../db/xact-locks.ts';
import { parseSmsEvidence } from '../evidence/sms-format.ts';
import type { Report } from '../db/tables.ts';
import type { ReportIndexRow } from '../db/web-tables.ts';
import type { Analysis } from '../analysis/analysis-schema.ts';
import { getLatestAnalyses } from '../analysis/repository.ts';
import { analysedAtAmong, campaignIdsOf, categoriesOf, classifiedAmong } from './foreign.ts';

/** Index stages: what the row already reflects. */
export const STAGE_RAW = 0;
export const STAGE_ANALYSED = 1;
export const STAGE_CLASSIFIED = 2;
/** Reports created longer ago than this and still waiting for analysis or classification are no longer polled. */
const PENDING_WINDOW_DAYS = 7;
const BATCH = 300;
/**
 * A report analysed but not yet classified is indexed again (with its analysis) only once its
 * analysis is this old: the campaign stage classifies it within seconds, and indexing it at each
 * of the two steps cost a full index write, a read and parse of the analysis and its roll-ups
 * twice (issue 17). A report whose classification stays away (its campaign job failing) still
 * shows its analysed facts after this long.
 */
export const ANALYSED_GRACE_MS = 30_000;
const MAX_TERMS = 200;
const HEADER_SCAN_BYTES = 256 * 1024;

/** Dimensions of `web_rollup_daily`. */
export const ROLLUP_DIMS = ['category', 'channel', 'country', 'asn', 'campaign', 'domain'] as const;
export type RollupDim = (typeof ROLLUP_DIMS)[number];
/** Value stored for "unknown" in a roll-up (not yet classified, no origin found). */
export const UNKNOWN = '';

/** Term prefixes of `web_report_terms`. */
export const TERM = {
  word: 'w:',
  sender: 's:',
  domain: 'd:',
  advertised: 'a:',
  url: 'u:',
  email: 'e:',
  ip: 'i:',
} as const;

interface IndexFacts {
  row: Omit<ReportIndexRow, 'false_report' | 'updated_at'>;
  terms: Set<string>;
  /** Registrable domains advertised (URLs in the body). */
  advertised: Set<string>;
}

/** Words of a subject for the term index: lower-case letters/digits, 3..40 chars. */
export function subjectWords(subject: string): string[] {
  const words =
    subject
      .toLowerCase()
      .normalize('NFKC')
      .match(/[\p{L}\p{N}]{3,40}/gu) ?? [];
  return [...new Set(words)].slice(0, 30);
}

/** A URL term: the URL itself when short, its hash otherwise (column width). */
export function urlTerm(url: string): string {
  const u = url.trim();
  return TERM.url + (u.length <= 240 ? u : `#${sha256Hex(u)}`);
}

function domainOf(address: string | null | undefined): string | null {
  if (!address) return null;
  const at = address.lastIndexOf('@');
  if (at < 0) return null;
  const d = address
    .slice(at + 1)
    .trim()
    .toLowerCase()
    .replace(/[>\s].*$/, '');
  return d.length > 0 && d.length <= 255 ? d : null;
}

/**
 * Subject and sender of a report not analysed yet, for the list until its analysis arrives (seconds,
 * normally). Read from the header block alone, as postal-mime reads them — the first `Subject` with
 * its encoded-words decoded, the first address of the first `From` — with postal-mime's own
 * `decodeWords` and `addressParser` on the unfolded field, its 8-bit bytes taken as UTF-8 as postal-mime
 * takes them. A whole postal-mime parse of the header block took 266 µs per corpus message, this 73 µs
 * (~0.2 ms per report off the background process's main thread, issue 17); `header-facts.test.ts`
 * compares the two on the corpora.
 */
export function headerFacts(raw: Uint8Array): { subject: string | null; sender: string | null } {
  // A UTF-8 byte-order mark before the first line (some clients' saved files) is not part of it.
  const start = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : 0;
  const { fields } = parseHeaderBlock(raw, start, Math.min(raw.length, start + HEADER_SCAN_BYTES));
  const field = (name: string): string | null => {
    const v = headerValue(fields, name);
    return v === null || v === '' ? null : Buffer.from(v, 'latin1').toString('utf8');
  };
  let subject: string | null = null;
  let sender: string | null = null;
  try {
    const s = field('subject');
    if (s !== null) subject = decodeWords(s).slice(0, 500);
  } catch {
    subject = null;
  }
  try {
    const f = field('from');
    if (f !== null) sender = addressParser(f)[0]?.address?.slice(0, 320) ?? null;
  } catch {
    sender = null;
  }
  return { subject, sender };
}

/** What a batch of reports' facts are read from: a few statements for the whole batch, not one set per report. */
export interface FactSources {
  /** Message kind by hash. */
  kinds: Map<string, string>;
  /** Latest stored analysis by hash; null when it is stored but cannot be read. */
  analyses: Map<string, Analysis | null>;
  /** Category in force (relabel, else automatic) by hash. */
  categories: Map<string, string>;
  /** Campaign (after merges) by hash. */
  campaigns: Map<string, string>;
}

/** Reads the sources of these reports' facts (≤ {@link BATCH} reports: one statement per table). */
export async function factSources(db: Kysely<Database>, reports: readonly Report[]): Promise<FactSources> {
  const shas = [...new Set(reports.map((r) => r.message_sha256))];
  const kinds = new Map<string, string>();
  if (shas.length > 0)
    for (const m of await db.selectFrom('messages').select(['sha256', 'kind']).where('sha256', 'in', shas).execute())
      kinds.set(m.sha256, m.kind);
  return {
    kinds,
    analyses: await getLatestAnalyses(db, shas),
    categories: await categoriesOf(db, shas),
    campaigns: await campaignIdsOf(db, shas),
  };
}

/** Gathers what the index should say about one report now (`sources`: read for a batch by {@link factSources}). */
export async function computeFacts(db: Kysely<Database>, report: Report, sources?: FactSources): Promise<IndexFacts> {
  const src = sources ?? (await factSources(db, [report]));
  const kind = src.kinds.get(report.message_sha256);
  if (kind === undefined) throw new Error(`message ${report.message_sha256} of report ${report.id} is not stored`);
  const msg = { kind };
  const terms = new Set<string>();
  const advertised = new Set<string>();
  let subject: string | null = null;
  let sender: string | null = null;
  let originIp: string | null = null;
  let originCountry: string | null = null;
  let originAsn: number | null = null;
  let arrivedAt: string | null = null;
  let stage = STAGE_RAW;
  const analysis = src.analyses.get(report.message_sha256);
  // A stored analysis that cannot be read would leave the report waiting for one forever (and
  // every pass indexing it again): it is a failure of this report, parked by the caller.
  if (analysis === null) throw new Error(`the stored analysis of message ${report.message_sha256} cannot be read`);
  if (analysis) {
    stage = STAGE_ANALYSED;
    subject = analysis.parse.subject;
    arrivedAt = messageTimes(analysis).arrivedAt;
    sender = analysis.indicators.sender.from ?? analysis.parse.from[0]?.address ?? null;
    // The receiving side's own machine is nobody's network's report (`actionable-origin.ts`): network
    // operators are scoped, and the statistics counted, by this origin.
    const actionable = actionableOrigin(analysis.traceback);
    originIp = actionable?.ip ?? null;
    const eo = actionable === null ? null : analysis.enrichment.origin;
    originCountry = eo?.country ?? null;
    originAsn = eo?.asn ?? null;
    // Every URL stays searchable; only what the message advertises (`advertised.ts`: no resource host,
    // no address an HTML part only names in its text) is an advertised domain and a roll-up value.
    const sends = new Set(advertisedUrls(analysis));
    for (const u of analysis.indicators.urls.slice(0, 100)) {
      terms.add(urlTerm(u.url));
      terms.add(TERM.domain + u.host.toLowerCase());
      if (u.registrableDomain) {
        terms.add(TERM.domain + u.registrableDomain.toLowerCase());
        if (sends.has(u)) advertised.add(u.registrableDomain.toLowerCase());
      }
    }
    for (const e of analysis.indicators.emails.slice(0, 50)) terms.add(TERM.email + e.toLowerCase());
  } else {
    const raw = await getMessageRaw(db, report.message_sha256);
    if (raw && msg.kind === 'sms') {
      const sms = parseSmsEvidence(raw);
      if (sms) {
        sender = sms.sender;
        subject = sms.text.slice(0, 120);
      }
    } else if (raw) {
      ({ subject, sender } = headerFacts(raw));
    }
  }
  if (msg.kind === 'sms' && analysis) {
    const sms = parseSmsEvidence((await getMessageRaw(db, report.message_sha256)) ?? Buffer.alloc(0));
    if (sms) {
      sender ??= sms.sender;
      subject ??= sms.text.slice(0, 120);
    }
  }
  const senderDomain = domainOf(sender);
  if (sender) terms.add(TERM.sender + sender.toLowerCase().slice(0, 250));
  if (senderDomain) {
    terms.add(TERM.sender + senderDomain);
    const reg = getDomain(senderDomain);
    if (reg && reg !== senderDomain) terms.add(TERM.sender + reg);
  }
  if (subject) for (const w of subjectWords(subject)) terms.add(TERM.word + w);
  if (originIp) terms.add(TERM.ip + originIp.toLowerCase());
  const category = src.categories.get(report.message_sha256) ?? null;
  const campaignId = src.campaigns.get(report.message_sha256) ?? null;
  if (category !== null && stage === STAGE_ANALYSED) stage = STAGE_CLASSIFIED;
  for (const d of advertised) terms.add(TERM.advertised + d);
  return {
    row: {
      report_id: report.id,
      received_at: report.received_at,
      arrived_at: arrivalOrReceived(arrivedAt, report.received_at),
      channel: report.channel,
      kind: msg.kind,
      message_sha256: report.message_sha256,
      reporter_user_id: report.reporter_user_id,
      subject,
      sender: sender?.slice(0, 320) ?? null,
      sender_domain: senderDomain,
      origin_ip: originIp,
      origin_country: originCountry ? originCountry.toUpperCase().slice(0, 2) : null,
      origin_asn: originAsn,
      category,
      campaign_id: campaignId,
      stage,
    },
    terms: new Set([...terms].filter((t) => t.length <= 255).slice(0, MAX_TERMS)),
    advertised,
  };
}

/** `dim|day|value`; every daily key has a monthly twin (`dim:m|YYYY-MM|value`) for long ranges. */
type Key = string;

/** Dimension name of the monthly roll-up rows of a dimension. */
export function monthlyDim(dim: RollupDim): string {
  return `${dim}:m`;
}

function rollupKeys(
  r: {
    received_at: string;
    arrived_at: string | null;
    channel: string;
    category: string | null;
    origin_country: string | null;
    origin_asn: number | null;
    campaign_id: string | null;
  },
  advertised: Iterable<string>,
): Set<Key> {
  // Statistics count mail when it arrived, so an imported archive shows its own years, not one
  // spike on the day of the import.
  const day = (r.arrived_at ?? r.received_at).slice(0, 10);
  const daily: [RollupDim, string][] = [
    ['category', r.category ?? UNKNOWN],
    ['channel', r.channel],
    ['country', r.origin_country ?? UNKNOWN],
    ['asn', r.origin_asn === null ? UNKNOWN : String(r.origin_asn)],
  ];
  if (r.campaign_id) daily.push(['campaign', r.campaign_id]);
  for (const d of advertised) daily.push(['domain', d]);
  const keys = new Set<Key>();
  for (const [dim, value] of daily) {
    keys.add(`${dim}|${day}|${value}`);
    keys.add(`${monthlyDim(dim)}|${day.slice(0, 7)}|${value}`);
  }
  return keys;
}

/** Roll-up changes of one transaction, by key; applied last, in key order ({@link applyDeltas}). */
export type RollupDeltas = Map<Key, number>;

/**
 * Applies the roll-up deltas of a transaction in key order: every transaction that bumps shared
 * counters takes their row locks in the same order, so two of them never deadlock over them.
 */
export async function applyDeltas(trx: Transaction<Database>, deltas: RollupDeltas): Promise<void> {
  const rows: { dim: string; day: string; value: string; n: number }[] = [];
  for (const key of [...deltas.keys()].sort()) {
    const n = deltas.get(key) ?? 0;
    if (n === 0) continue;
    const [dim, day, ...rest] = key.split('|');
    rows.push({ dim, day, value: rest.join('|'), n });
  }
  // Several keys per statement (one upsert each was 12 statements per report indexed, issue 17);
  // the keys are distinct and in order, so the row locks are still taken in key order.
  for (let i = 0; i < rows.length; i += ROLLUP_ROWS_PER_STATEMENT)
    await trx
      .insertInto('web_rollup_daily')
      .values(rows.slice(i, i + ROLLUP_ROWS_PER_STATEMENT))
      .onConflict((oc) =>
        oc
          .columns(['dim', 'day', 'value'])
          .doUpdateSet((eb) => ({ n: eb('web_rollup_daily.n', '+', eb.ref('excluded.n')) })),
      )
      .execute();
}

/** Roll-up rows per upsert statement (4 parameters each). */
const ROLLUP_ROWS_PER_STATEMENT = 200;
/** Term rows per insert statement (3 parameters each). */
const TERM_ROWS_PER_STATEMENT = 300;

/** What the index held for a report before this write (null: not indexed yet). */
export interface PriorIndex {
  row: ReportIndexRow | undefined;
  terms: string[];
}

/** The index rows and terms of these reports as they are now: two statements for a batch. */
export async function priorIndex(trx: Transaction<Database>, ids: readonly string[]): Promise<Map<string, PriorIndex>> {
  const out = new Map<string, PriorIndex>();
  if (ids.length === 0) return out;
  const rows = await trx
    .selectFrom('web_report_index')
    .selectAll()
    .where('report_id', 'in', [...ids])
    .execute();
  for (const r of rows) out.set(r.report_id, { row: r, terms: [] });
  if (rows.length > 0)
    for (const t of await trx
      .selectFrom('web_report_terms')
      .select(['report_id', 'term'])
      .where(
        'report_id',
        'in',
        rows.map((r) => r.report_id),
      )
      .execute())
      out.get(t.report_id)?.terms.push(t.term);
  return out;
}

/**
 * Writes the facts: index row and terms, and adds to `deltas` the roll-up changes against what was
 * indexed before. The caller holds the report's index lock (`lockNames`, `LOCK_CLASS.indexReport`),
 * so the row read here as "before" is the one it replaces: two indexers of one report count once.
 */
export async function applyFacts(
  trx: Transaction<Database>,
  f: IndexFacts,
  deltas: RollupDeltas,
  prior?: PriorIndex,
  pending?: PendingInserts,
): Promise<void> {
  const id = f.row.report_id;
  const was = prior ?? (await priorIndex(trx, [id])).get(id);
  const old = was?.row;
  const oldTerms = (was?.terms ?? []).map((term) => ({ term }));
  const oldAdvertised = oldTerms
    .filter((t) => t.term.startsWith(TERM.advertised))
    .map((t) => t.term.slice(TERM.advertised.length));
  const before = old ? rollupKeys(old, oldAdvertised) : new Set<Key>();
  const after = rollupKeys(f.row, f.advertised);
  for (const k of before) if (!after.has(k)) deltas.set(k, (deltas.get(k) ?? 0) - 1);
  for (const k of after) if (!before.has(k)) deltas.set(k, (deltas.get(k) ?? 0) + 1);
  const now = nowIso();
  if (old) {
    await trx
      .updateTable('web_report_index')
      .set({ ...f.row, updated_at: now })
      .where('report_id', '=', id)
      .execute();
  } else {
    const row = { ...f.row, false_report: 0, updated_at: now };
    if (pending) pending.rows.push(row);
    else await trx.insertInto('web_report_index').values(row).execute();
  }
  const oldSet = new Set(oldTerms.map((t) => t.term));
  const removed = [...oldSet].filter((t) => !f.terms.has(t));
  const added = [...f.terms].filter((t) => !oldSet.has(t));
  if (removed.length > 0)
    await trx.deleteFrom('web_report_terms').where('report_id', '=', id).where('term', 'in', removed).execute();
  const terms = added.map((term) => ({ term, received_at: f.row.received_at, report_id: id }));
  if (pending) pending.terms.push(...terms);
  else if (terms.length > 0) await trx.insertInto('web_report_terms').values(terms).execute();
}

/** New index rows and terms of a batch, written together by {@link flushInserts}. */
export interface PendingInserts {
  rows: ReportIndexRow[];
  terms: { term: string; received_at: string; report_id: string }[];
}

/** Index rows per insert statement (19 parameters each). */
const INDEX_ROWS_PER_STATEMENT = 50;

async function flushInserts(trx: Transaction<Database>, p: PendingInserts): Promise<void> {
  for (let i = 0; i < p.rows.length; i += INDEX_ROWS_PER_STATEMENT)
    await trx
      .insertInto('web_report_index')
      .values(p.rows.slice(i, i + INDEX_ROWS_PER_STATEMENT))
      .execute();
  for (let i = 0; i < p.terms.length; i += TERM_ROWS_PER_STATEMENT)
    await trx
      .insertInto('web_report_terms')
      .values(p.terms.slice(i, i + TERM_ROWS_PER_STATEMENT))
      .execute();
}

/** Where the indexer parks a report it cannot index (`dead_letters.source`). */
export const INDEXER_SOURCE = 'web-indexer';

/** A write that commits with the batch's index rows (the pass's watermark), taken last. */
type AlsoInBatch = (trx: Transaction<Database>) => Promise<void>;

async function indexBatch(db: Kysely<Database>, ids: readonly string[], also?: AlsoInBatch): Promise<number> {
  const reports = await db
    .selectFrom('reports')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
  const sources = await factSources(db, reports);
  const facts: IndexFacts[] = [];
  for (const r of reports) facts.push(await computeFacts(db, r, sources));
  facts.sort((a, b) => (a.row.report_id < b.row.report_id ? -1 : a.row.report_id > b.row.report_id ? 1 : 0));
  // Lock order: the reports' index locks (sorted), their own rows, then the shared roll-up rows
  // in key order — the same in every indexer, whichever process runs it.
  await db.transaction().execute(async (trx) => {
    await lockNames(
      trx,
      LOCK_CLASS.indexReport,
      facts.map((f) => f.row.report_id),
    );
    const prior = await priorIndex(
      trx,
      facts.map((f) => f.row.report_id),
    );
    const deltas: RollupDeltas = new Map();
    const pending: PendingInserts = { rows: [], terms: [] };
    for (const f of facts)
      await applyFacts(trx, f, deltas, prior.get(f.row.report_id) ?? { row: undefined, terms: [] }, pending);
    await flushInserts(trx, pending);
    await applyDeltas(trx, deltas);
    if (also) await also(trx);
  });
  return facts.length;
}

/**
 * (Re-)indexes the given reports now, in one transaction. When that fails, each report is tried
 * on its own and one that still fails is parked in `dead_letters` with the reason (once), so a
 * poisoned report never holds back the others. A failure to park (the database is gone) throws.
 * Returns the reports indexed plus those newly parked. `also` commits with the batch, or runs on
 * its own after the reports were taken one by one.
 */
export async function indexReports(db: Kysely<Database>, ids: readonly string[], also?: AlsoInBatch): Promise<number> {
  if (ids.length === 0) {
    if (also) await db.transaction().execute(also);
    return 0;
  }
  try {
    return await indexBatch(db, ids, also);
  } catch (batchError) {
    const n = await indexOneByOne(db, ids, batchError);
    if (also) await db.transaction().execute(also);
    return n;
  }
}

async function indexOneByOne(db: Kysely<Database>, ids: readonly string[], batchError: unknown): Promise<number> {
  const park = (id: string, e: unknown) =>
    parkFailure(db, { source: INDEXER_SOURCE, origin: `report:${id}`, reason: `indexing failed: ${reasonOf(e)}` });
  if (ids.length === 1) return (await park(ids[0], batchError)) ? 1 : 0;
  let n = 0;
  for (const id of ids) {
    try {
      n += await indexBatch(db, [id]);
    } catch (e) {
      if (await park(id, e)) n++;
    }
  }
  return n;
}

/** Of these reports, those the indexer parked and staff have not yet dealt with. */
async function parkedReports(db: Kysely<Database>, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom('dead_letters')
    .select('origin')
    .where('source', '=', INDEXER_SOURCE)
    .where('retried_at', 'is', null)
    .where(
      'origin',
      'in',
      ids.map((id) => `report:${id}`),
    )
    .execute();
  return new Set(rows.map((r) => (r.origin ?? '').slice('report:'.length)));
}

const WATERMARK = 'indexer.last_report_id';
const PENDING_CURSOR = 'indexer.pending_cursor';
/** Above every ULID under any collation (ULIDs are Crockford base32: 0-9 and A-Z). */
const MAX_ID = 'Z'.repeat(26);

/**
 * How far below the watermark (in ULID time) reports are looked for again: a report's id is made
 * before its transaction commits, so with several intake processes, or a commit that waits, a
 * report can become visible after the watermark has passed its id. Longer than any transaction may
 * stay open (SQLite's busy wait is 30 s; PostgreSQL ends a session idle in a transaction after 60 s).
 */
export const LATE_WINDOW_MS = 5 * 60_000;
/** The late look-up runs at most this often per database handle (it reads the whole window). */
const LATE_CHECK_EVERY_MS = 10_000;
const lastLateCheck = new WeakMap<object, number>();

/** Reports committed after the watermark passed their id, not indexed and not parked, oldest first. */
async function lateReports(db: Kysely<Database>, watermark: string): Promise<string[]> {
  const from = `${encodeTime(Math.max(0, decodeTime(watermark) - LATE_WINDOW_MS), 10)}0000000000000000`;
  const rows = await db
    .selectFrom('reports as r')
    .select('r.id')
    .where('r.id', '>', from)
    .where('r.id', '<=', watermark)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('web_report_index as w').select('w.report_id').whereRef('w.report_id', '=', 'r.id'))),
    )
    .orderBy('r.id')
    .limit(BATCH)
    .execute();
  const parked = await parkedReports(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) => r.id).filter((id) => !parked.has(id));
}

/**
 * One pass: index reports past the watermark, and (once caught up) reports that committed after
 * the watermark passed their id; then look again at recent reports still waiting for analysis or
 * classification. Returns how many rows it wrote; call until 0 to catch up. `lateCheck: 'always'`
 * looks for late reports on every pass (tests, `indexAll`). A report is written at most three
 * times (arrival, analysed, classified) and normally twice: the analysed-only row is skipped while
 * the classification is due (`analysedGraceMs`, default {@link ANALYSED_GRACE_MS}).
 */
export async function indexPass(
  db: Kysely<Database>,
  opts: { lateCheck?: 'throttled' | 'always'; analysedGraceMs?: number } = {},
): Promise<number> {
  const wm = await db.selectFrom('web_state').select('value').where('key', '=', WATERMARK).executeTakeFirst();
  let q = db.selectFrom('reports').select('id').orderBy('id').limit(BATCH);
  if (wm) q = q.where('id', '>', wm.value);
  const fresh = (await q.execute()).map((r) => r.id);
  let written = 0;
  if (fresh.length > 0) {
    const last = fresh[fresh.length - 1];
    // In the batch's own transaction: a write of its own was a commit (an fsync on SQLite) per pass.
    written += await indexReports(db, fresh, async (trx) => {
      await trx
        .insertInto('web_state')
        .values({ key: WATERMARK, value: last })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: last }))
        .execute();
    });
  }
  const watermark = fresh.length > 0 ? fresh[fresh.length - 1] : wm?.value;
  const now = Date.now();
  const due = opts.lateCheck === 'always' || now - (lastLateCheck.get(db) ?? 0) >= LATE_CHECK_EVERY_MS;
  if (watermark && fresh.length < BATCH && due) {
    lastLateCheck.set(db, now);
    written += await indexReports(db, await lateReports(db, watermark));
  }
  // Reports still waiting for analysis or classification, created (ULID time) in the window, are
  // walked round-robin from a cursor, so a backlog larger than one batch is covered over passes.
  const windowStart = `${encodeTime(Date.now() - PENDING_WINDOW_DAYS * 86_400_000, 10)}0000000000000000`;
  const cur = await db.selectFrom('web_state').select('value').where('key', '=', PENDING_CURSOR).executeTakeFirst();
  let pq = db
    .selectFrom('web_report_index')
    .select(['report_id', 'stage', 'message_sha256'])
    .where('stage', '<', STAGE_CLASSIFIED)
    .where('report_id', '>', windowStart)
    .orderBy('report_id', 'desc')
    .limit(BATCH);
  if (cur) pq = pq.where('report_id', '<', cur.value);
  const pending = await pq.execute();
  const nextCursor = pending.length === BATCH ? pending[pending.length - 1].report_id : MAX_ID;
  // Written only when it moves, and with the reports it found moved on: on SQLite each commit is an
  // fsync, and an idle pass (nothing pending, the cursor at MAX_ID) ran every few hundred ms (issue 17).
  const moveCursor =
    cur?.value === nextCursor
      ? undefined
      : async (trx: Transaction<Database>) => {
          await trx
            .insertInto('web_state')
            .values({ key: PENDING_CURSOR, value: nextCursor })
            .onConflict((oc) => oc.column('key').doUpdateSet({ value: nextCursor }))
            .execute();
        };
  // Cheap existence checks, one statement per table for the whole batch (not one per row); the
  // full facts are computed only for rows that moved on. A parked report waits for staff (dead
  // letters), not for the next pass.
  const parked = await parkedReports(
    db,
    pending.map((p) => p.report_id),
  );
  const waiting = pending.filter((p) => !parked.has(p.report_id));
  const analysedAt = await analysedAtAmong(
    db,
    waiting.filter((p) => p.stage === STAGE_RAW).map((p) => p.message_sha256),
  );
  const classified = await classifiedAmong(
    db,
    waiting.filter((p) => p.stage !== STAGE_RAW || analysedAt.has(p.message_sha256)).map((p) => p.message_sha256),
  );
  // Analysed and classified: indexed once more, for good. Analysed only: left for the
  // classification that follows, unless it is late (ANALYSED_GRACE_MS; 0 from indexAll).
  const graceMs = opts.analysedGraceMs ?? ANALYSED_GRACE_MS;
  const analysedBefore = new Date(Date.now() - graceMs).toISOString();
  const changed = waiting
    .filter((p) => {
      if (classified.has(p.message_sha256)) return p.stage === STAGE_ANALYSED || analysedAt.has(p.message_sha256);
      const at = analysedAt.get(p.message_sha256);
      return p.stage === STAGE_RAW && at !== undefined && (graceMs <= 0 || at <= analysedBefore);
    })
    .map((p) => p.report_id);
  written += await indexReports(db, changed, moveCursor);
  return written;
}

/**
 * Indexes again the reports of messages analysed again (a retrace once a reporter's mail host was
 * learned, `spamdesk reanalyze`) that the index already holds: their origin, network, country and
 * terms follow the new analysis, and the daily roll-ups (dashboards, the regulator's statistics)
 * move with them. Reports not indexed yet are left to the pass, which reads the new analysis.
 * Returns how many were written.
 */
export async function reindexMessages(db: Kysely<Database>, sha256s: readonly string[]): Promise<number> {
  let n = 0;
  const shas = [...new Set(sha256s)];
  for (let i = 0; i < shas.length; i += BATCH) {
    const rows = await db
      .selectFrom('reports as r')
      .innerJoin('web_report_index as w', 'w.report_id', 'r.id')
      .select('r.id')
      .where('r.message_sha256', 'in', shas.slice(i, i + BATCH))
      .orderBy('r.id')
      .execute();
    const ids = rows.map((r) => r.id);
    for (let j = 0; j < ids.length; j += BATCH) n += await indexReports(db, ids.slice(j, j + BATCH));
  }
  return n;
}

/** Runs passes until nothing is left (tests, CLI). */
export async function indexAll(db: Kysely<Database>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await indexPass(db, { lateCheck: 'always', analysedGraceMs: 0 });
    total += n;
    if (n === 0) return total;
  }
}

/** Sets or clears the false-report flag on the index row (the mark itself is in web_report_marks). */
export async function setFalseReportFlag(db: Kysely<Database>, reportId: string, flag: boolean): Promise<void> {
  await db
    .updateTable('web_report_index')
    .set({ false_report: flag ? 1 : 0, updated_at: nowIso() })
    .where('report_id', '=', reportId)
    .execute();
}

/**
 * After campaigns were rebuilt (`spamdesk campaigns recluster`): every index row takes its
 * message's campaign again, and the campaign roll-ups are recounted from the rows — exact,
 * without re-reading any analysis.
 */
export async function reindexCampaigns(db: Kysely<Database>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`update web_report_index set campaign_id = (select coalesce(c.merged_into, c.id) from campaign_messages m \
join campaigns c on c.id = m.campaign_id where m.sha256 = web_report_index.message_sha256)`.execute(trx);
    await trx
      .deleteFrom('web_rollup_daily')
      .where('dim', 'in', ['campaign', monthlyDim('campaign')])
      .execute();
    const day = sql<string>`substr(coalesce(arrived_at, received_at), 1, 10)`;
    const month = sql<string>`substr(coalesce(arrived_at, received_at), 1, 7)`;
    for (const [dim, period] of [
      ['campaign', day],
      [monthlyDim('campaign'), month],
    ] as const) {
      await trx
        .insertInto('web_rollup_daily')
        .columns(['dim', 'day', 'value', 'n'])
        .expression((eb) =>
          eb
            .selectFrom('web_report_index')
            .select([
              sql<string>`${sql.lit(dim)}`.as('dim'),
              period.as('day'),
              sql<string>`campaign_id`.as('value'),
              eb.fn.countAll<number>().as('n'),
            ])
            .where('campaign_id', 'is not', null)
            .groupBy([period, 'campaign_id']),
        )
        .execute();
    }
  });
}
