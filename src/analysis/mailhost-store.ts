/**
 * Where the learned mail hosts live and when they are learned again (the pure learner is
 * `stages/traceback/mailhosts.ts`). Two keys per report: the reporter (`user:…`, `token:…` or
 * `address:<sha256 of the address>`: the address itself is personal data and is not copied) and the
 * intake channel (`intake:smtp`, …), so hosts shared by every reporter of one reporting mailbox are
 * learned too. A key is learned first after {@link FIRST_LEARNING_AFTER} reports, then again after
 * every {@link RELEARN_EVERY}, from its last {@link MAX_LEARNING_CHAINS} analysed reports.
 */
import { LOCK_CLASS, lockNames } from '../db/xact-locks.ts';
import { reporterAddressKey } from '../core/reporter-key.ts';
import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import type { Database } from '../db/schema.ts';
import { ANALYSER_VERSION, AnalysisSchema, MAX_HEADERS_KEPT, type Hop } from './analysis-schema.ts';
import { mayBeListMail } from './list-mail.ts';
import { writeAudit } from '../evidence/audit.ts';
import { DECLARED_MARK, MAX_DECLARED, showDeclaration } from './stages/traceback/declared.ts';
import { learnMailhosts, MAX_MAILHOSTS, MIN_MAILHOST_REPORTS } from './stages/traceback/mailhosts.ts';
import type { ParsedReceived } from './stages/traceback/received-parser.ts';
import { trustTableFor } from './stages/traceback/trust.ts';
import { normaliseIp } from './stages/traceback/ip-class.ts';

/** Reports of one key between two learning passes. */
export const RELEARN_EVERY = 25;
/**
 * Reports of a key never learned before its first pass: as soon as the learner could learn a host
 * ({@link MIN_MAILHOST_REPORTS}), not after {@link RELEARN_EVERY}. Until then a new reporter's reports
 * are traced without their mail hosts and may name their own relay (a forwarder, a secondary MX).
 */
export const FIRST_LEARNING_AFTER = MIN_MAILHOST_REPORTS;
/** Chains a learning pass reads (the most recent analysed reports of the key). */
export const MAX_LEARNING_CHAINS = 300;

/** The learning keys of one report. */
export function reporterKeys(r: {
  reporter_user_id: string | null;
  reporter_token_id: string | null;
  reporter_address: string | null;
  channel: string;
}): string[] {
  const keys: string[] = [];
  if (r.reporter_user_id) keys.push(`user:${r.reporter_user_id}`);
  else if (r.reporter_token_id) keys.push(`token:${r.reporter_token_id}`);
  else if (r.reporter_address) keys.push(reporterAddressKey(r.reporter_address));
  keys.push(`intake:${r.channel}`);
  return keys;
}

/** The learning keys of each report id. */
export async function keysOfReports(
  db: Kysely<Database>,
  reportIds: readonly string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < reportIds.length; i += 200) {
    const rows = await db
      .selectFrom('reports')
      .select(['id', 'reporter_user_id', 'reporter_token_id', 'reporter_address', 'channel'])
      .where('id', 'in', reportIds.slice(i, i + 200))
      .execute();
    for (const r of rows) out.set(r.id, reporterKeys(r));
  }
  return out;
}

/** What the trace-back is told about one report's reporter (see {@link reporterFactsOf}). */
export interface ReporterFacts {
  /** The reporter's mail domain, for the live MX rule (empty: none known). */
  domains: string[];
  /** The reporter's own addresses when the report is their redirect of the message; absent otherwise. */
  resentBy?: string[];
}

/**
 * What the trace-back is told about each report's reporter, one statement per 200 reports: the mail domain of the
 * address the report came from, else of the reporting user's account address (read only to ask the live MX rule
 * whether a hop is one of that domain's inbound relays; never stored with the analysis), and, when the report is the
 * reporter's redirect of the message (the intake's context `how: 'resent'`), their own addresses: the trace-back
 * leaves the redirect's own hops out (`stages/traceback/redirect.ts`).
 */
export async function reporterFactsOf(
  db: Kysely<Database>,
  reportIds: readonly string[],
): Promise<Map<string, ReporterFacts>> {
  const out = new Map<string, ReporterFacts>();
  for (let i = 0; i < reportIds.length; i += 200) {
    const rows = await db
      .selectFrom('reports')
      .leftJoin('users', 'users.id', 'reports.reporter_user_id')
      .select((eb) => [
        'reports.id as id',
        'reports.reporter_address as address',
        'users.email as email',
        // Only a redirect's context is read: the others are not parsed, nor sent over.
        eb
          .case()
          .when('reports.context', 'like', '%"resent"%')
          .then(eb.ref('reports.context'))
          .else(null)
          .end()
          .as('context'),
      ])
      .where('reports.id', 'in', reportIds.slice(i, i + 200))
      .execute();
    for (const r of rows) {
      const facts: ReporterFacts = { domains: reporterDomain(r.address ?? r.email ?? '') };
      if (r.context !== null && isRedirect(r.context)) {
        const addresses = [r.address, r.email]
          .filter((a): a is string => typeof a === 'string' && a.includes('@'))
          .map((a) => a.trim().toLowerCase());
        if (addresses.length > 0) facts.resentBy = [...new Set(addresses)];
      }
      out.set(r.id, facts);
    }
  }
  return out;
}

function reporterDomain(address: string): string[] {
  const at = address.lastIndexOf('@');
  const domain =
    at < 0
      ? ''
      : address
          .slice(at + 1)
          .trim()
          .toLowerCase()
          .replace(/[>.]+$/, '');
  return /^[a-z0-9.-]{1,253}$/.test(domain) && domain.includes('.') ? [domain] : [];
}

function isRedirect(context: string): boolean {
  try {
    return (JSON.parse(context) as { how?: unknown } | null)?.how === 'resent';
  } catch {
    return false;
  }
}

/**
 * The mail hosts of these keys for the trace-back: the declared ones first, marked with
 * {@link DECLARED_MARK}, then the learned ones; within each, the keys in the order given (the
 * reporter's own before the intake's), so a bound cuts the intake's, never the reporter's. One statement.
 */
export async function mailhostsOf(db: Kysely<Database>, keys: readonly string[]): Promise<string[]> {
  if (keys.length === 0) return [];
  const rows = await db
    .selectFrom('analysis_declared_mailhosts')
    .select((eb) => [eb.val(1).as('declared'), 'reporter_key', 'entry'])
    .where('reporter_key', 'in', [...keys])
    .unionAll(
      db
        .selectFrom('analysis_mailhosts')
        .select((eb) => [eb.val(0).as('declared'), 'reporter_key', 'ip as entry'])
        .where('reporter_key', 'in', [...keys]),
    )
    .execute();
  const rank = (k: string) => keys.indexOf(k);
  rows.sort(
    (a, b) => rank(a.reporter_key) - rank(b.reporter_key) || (a.entry < b.entry ? -1 : a.entry > b.entry ? 1 : 0),
  );
  const declared = rows.filter((r) => Number(r.declared) === 1).map((r) => `${DECLARED_MARK}${r.entry}`);
  const learned = rows.filter((r) => Number(r.declared) !== 1).map((r) => r.entry);
  return [...new Set(declared)].slice(0, MAX_DECLARED * 2).concat([...new Set(learned)].slice(0, MAX_MAILHOSTS * 2));
}

/**
 * {@link mailhostsOf} for the reports of one batch: each distinct set of keys is read once (a batch's
 * reports mostly share their reporter's and their intake's keys), not once per message.
 */
export function batchMailhosts(db: Kysely<Database>): (keys: readonly string[]) => Promise<string[]> {
  const memo = new Map<string, Promise<string[]>>();
  return (keys) => {
    const k = keys.join('\n');
    let hosts = memo.get(k);
    if (hosts === undefined) {
      hosts = mailhostsOf(db, keys);
      memo.set(k, hosts);
    }
    return hosts;
  };
}

/** One declared mail host as stored. */
export interface DeclaredMailhost {
  entry: string;
  note: string | null;
  declaredAt: string;
  declaredBy: string;
}

/** The mail hosts declared for one key, in entry order. */
export async function declaredMailhosts(db: Kysely<Database>, key: string): Promise<DeclaredMailhost[]> {
  const rows = await db
    .selectFrom('analysis_declared_mailhosts')
    .select(['entry', 'note', 'declared_at', 'declared_by'])
    .where('reporter_key', '=', key)
    .orderBy('entry')
    .execute();
  return rows.map((r) => ({ entry: r.entry, note: r.note, declaredAt: r.declared_at, declaredBy: r.declared_by }));
}

/** The mail hosts learned for one key (the last learning pass's), in entry order. */
export async function learnedMailhosts(db: Kysely<Database>, key: string): Promise<string[]> {
  const rows = await db
    .selectFrom('analysis_mailhosts')
    .select('ip')
    .where('reporter_key', '=', key)
    .orderBy('ip')
    .execute();
  return rows.map((r) => r.ip);
}

/** What a replacement of one key's declarations changed (entries as stored). */
export interface DeclaredChange {
  added: string[];
  removed: string[];
  /** Entries kept whose note changed. */
  noted: string[];
}

/**
 * Replaces the declared mail hosts of one key (already checked by `parseDeclaration`; at most
 * {@link MAX_DECLARED}), keeping the date and declarer of entries declared before. A change is
 * written to the audit chain in the same transaction (`traceback.mailhosts.declare`: a declaration
 * moves where blame lands), by key — an account id or a channel, never an address.
 */
export async function replaceDeclaredMailhosts(
  db: Kysely<Database>,
  key: string,
  entries: readonly { entry: string; note: string | null }[],
  actor: string,
  now: Date,
  ip: string | null = null,
): Promise<DeclaredChange> {
  if (entries.length > MAX_DECLARED) throw new RangeError(`at most ${MAX_DECLARED} declared mail hosts`);
  const wanted = new Map(entries.map((e) => [e.entry, e.note]));
  return db.transaction().execute(async (trx) => {
    await lockNames(trx, LOCK_CLASS.mailhostKey, [key]);
    const before = await trx
      .selectFrom('analysis_declared_mailhosts')
      .select(['entry', 'note'])
      .where('reporter_key', '=', key)
      .execute();
    const had = new Map(before.map((r) => [r.entry, r.note]));
    const removed = [...had.keys()].filter((e) => !wanted.has(e));
    const added = [...wanted.keys()].filter((e) => !had.has(e));
    const noted = [...wanted.keys()].filter((e) => had.has(e) && had.get(e) !== wanted.get(e));
    if (removed.length > 0)
      await trx
        .deleteFrom('analysis_declared_mailhosts')
        .where('reporter_key', '=', key)
        .where('entry', 'in', removed)
        .execute();
    for (const entry of noted)
      await trx
        .updateTable('analysis_declared_mailhosts')
        .set({ note: wanted.get(entry) ?? null })
        .where('reporter_key', '=', key)
        .where('entry', '=', entry)
        .execute();
    if (added.length > 0)
      await trx
        .insertInto('analysis_declared_mailhosts')
        .values(
          added.map((entry) => ({
            reporter_key: key,
            entry,
            note: wanted.get(entry) ?? null,
            declared_at: now.toISOString(),
            declared_by: actor.slice(0, 300),
          })),
        )
        .execute();
    if (added.length + removed.length + noted.length > 0)
      await writeAudit(trx, {
        actor,
        action: 'traceback.mailhosts.declare',
        subject: key,
        ip,
        detail: {
          added: added.map(showDeclaration),
          removed: removed.map(showDeclaration),
          noted: noted.map(showDeclaration),
        },
      });
    return { added, removed, noted };
  });
}

/** A stored analysis as the learner reads it: its Received hops, and whether a list passed the message on. */
interface StoredChain {
  hops: ParsedReceived[];
  /** True also when not known (no header kept, or the kept ones cut off): such a message teaches no forwarder. */
  listMail: boolean;
}

/** Whether the header fields a stored analysis kept say a list may have passed the message on (`list-mail.ts`). */
export function keptHeadersSayList(parsed: object): boolean {
  const parse = 'parse' in parsed ? parsed.parse : null;
  const headers = typeof parse === 'object' && parse !== null && 'headers' in parse ? parse.headers : null;
  if (!Array.isArray(headers) || headers.length >= MAX_HEADERS_KEPT) return true;
  const fields = headers.filter(
    (h): h is { name: string; value: string } => typeof h?.name === 'string' && typeof h?.value === 'string',
  );
  return fields.length !== headers.length || mayBeListMail(fields);
}

/** The Received hops of a stored analysis, and what its kept header says of lists, as the learner reads them. */
function chainOf(json: string): StoredChain | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const a = AnalysisSchema.shape.traceback.safeParse('traceback' in parsed ? parsed.traceback : null);
  if (!a.success) return null;
  return { hops: hopsOf(a.data.hops), listMail: keptHeadersSayList(parsed) };
}

function hopsOf(hops: readonly Hop[]): ParsedReceived[] {
  return hops.map((h: Hop) => ({
    fromHelo: h.fromHelo,
    fromRdns: h.fromRdns,
    fromIp: h.fromIp,
    byHost: h.byHost,
    protocol: h.protocol,
    tls: h.tls,
    id: h.id,
    for: h.for,
    date: h.date,
    parsed: h.parsed,
    notes: h.notes,
  }));
}

/**
 * The condition on `reports` that selects one key's reports (`user:`, `token:`, `intake:`; null for an
 * address key, whose reports are found by hashing), as an expression on the `reports` table.
 */
export function whereKey(key: string): ((eb: ExpressionBuilder<Database, 'reports'>) => Expression<SqlBool>) | null {
  const [kind, value] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
  if (kind === 'user') return (eb) => eb('reports.reporter_user_id', '=', value);
  if (kind === 'token')
    return (eb) => eb.and([eb('reports.reporter_token_id', '=', value), eb('reports.reporter_user_id', 'is', null)]);
  if (kind === 'intake') return (eb) => eb('reports.channel', '=', value);
  return null;
}

/** One key's reports' analyses: which analyses, not their documents. */
function reportsOfKey(db: Kysely<Database>, key: string) {
  const where = whereKey(key);
  if (where === null) return null;
  return db
    .selectFrom('reports')
    .innerJoin('analyses', 'analyses.message_sha256', 'reports.message_sha256')
    .select(['analyses.message_sha256', 'analyses.version', 'analyses.analysed_at'])
    .where(where);
}

interface StoredRef {
  message_sha256: string;
  version: string;
  analysed_at: string;
}

/** Chains parsed before, by stored analysis (an analysis stored again gets a new `analysed_at`). */
const CHAINS = new Map<string, StoredChain | null>();
/** Parsed chains kept per process: a few keys' windows; cleared when full. */
export const CHAIN_MEMO_MAX = 4 * MAX_LEARNING_CHAINS;
const refKey = (r: StoredRef): string => `${r.message_sha256}|${r.version}|${r.analysed_at}`;

/**
 * The chains of these stored analyses, in their order. A learning pass reads the same last
 * {@link MAX_LEARNING_CHAINS} analyses of a key every {@link RELEARN_EVERY} reports; parsing every
 * document each time (up to 300 JSON documents per key per pass) was most of the learning's cost
 * (issue 17 profile). Only documents not parsed before are read and parsed.
 */
async function chainsOf(db: Kysely<Database>, refs: readonly StoredRef[]): Promise<(StoredChain | null)[]> {
  const missing = [...new Set(refs.filter((r) => !CHAINS.has(refKey(r))).map((r) => r.message_sha256))];
  const fetched = new Map<string, StoredChain | null>();
  for (let i = 0; i < missing.length; i += MAX_LEARNING_CHAINS) {
    const rows = await db
      .selectFrom('analyses')
      .select(['message_sha256', 'version', 'analysed_at', 'json'])
      .where('message_sha256', 'in', missing.slice(i, i + MAX_LEARNING_CHAINS))
      .execute();
    for (const r of rows) fetched.set(refKey(r), chainOf(r.json));
  }
  if (CHAINS.size + fetched.size > CHAIN_MEMO_MAX) CHAINS.clear();
  for (const [k, c] of fetched) CHAINS.set(k, c);
  // An analysis stored again between the two reads is not in `fetched` under its old key: skipped
  // this pass, as if it were not yet stored.
  return refs.map((r) => fetched.get(refKey(r)) ?? CHAINS.get(refKey(r)) ?? null);
}

/**
 * Counts newly analysed reports per key and learns a key again when it is due. Address keys are
 * hashed, so their reports are found by hashing the candidates' addresses (bounded by the same
 * window). Returns the keys learned again.
 */
export async function noteReportsAndRelearn(
  db: Kysely<Database>,
  keysPerReport: Iterable<readonly string[]>,
  now: Date,
  /** Filled with the messages whose stored origin a pass found to be the key's own host ({@link learnKey}). */
  stale?: Set<string>,
): Promise<string[]> {
  const counts = new Map<string, number>();
  for (const keys of keysPerReport) for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  const due: string[] = [];
  // One short transaction per key, under the key's lock, in key order: processes counting the same
  // reporter at once add up instead of overwriting each other (or both inserting its row).
  for (const key of [...counts.keys()].sort()) {
    const n = counts.get(key) ?? 0;
    const isDueNow = await db.transaction().execute(async (trx) => {
      await lockNames(trx, LOCK_CLASS.mailhostKey, [key]);
      const row = await trx
        .selectFrom('analysis_mailhost_keys')
        .select(['reports_since', 'learned_at'])
        .where('reporter_key', '=', key)
        .executeTakeFirst();
      const total = (row?.reports_since ?? 0) + n;
      const first = !row?.learned_at;
      const isDue = total >= (first ? FIRST_LEARNING_AFTER : RELEARN_EVERY);
      // The first pass leaves the count running, so the second comes at the 25th report as before.
      const next = isDue && !first ? 0 : total;
      if (row)
        await trx
          .updateTable('analysis_mailhost_keys')
          .set({ reports_since: next })
          .where('reporter_key', '=', key)
          .execute();
      else
        await trx
          .insertInto('analysis_mailhost_keys')
          .values({ reporter_key: key, reports_since: next, learned_at: null })
          .execute();
      return isDue;
    });
    if (isDueNow) due.push(key);
  }
  for (const key of due) for (const sha of (await learnKey(db, key, now)).stale) stale?.add(sha);
  return due;
}

/** One learning pass for one key: reads its recent chains, replaces its learned hosts. */
export async function relearn(db: Kysely<Database>, key: string, now: Date): Promise<string[]> {
  return (await learnKey(db, key, now)).learned;
}

/**
 * One learning pass for one key ({@link relearn}), and the messages of its window whose stored analysis
 * names as its origin a host this pass learned and the last did not: they were traced before the
 * reporter's side was known, and every output acting on them (the lists, the ISP alerts, the intel
 * feeds, the cases) would go on naming the reporter's own forwarder or secondary MX until they are
 * traced again (`job-handler.ts` does it).
 */
export async function learnKey(
  db: Kysely<Database>,
  key: string,
  now: Date,
): Promise<{ learned: string[]; stale: string[] }> {
  let refs: StoredRef[];
  if (key.startsWith('address:')) {
    const hash = key.slice('address:'.length);
    const rows = await db
      .selectFrom('reports')
      .innerJoin('analyses', 'analyses.message_sha256', 'reports.message_sha256')
      .select(['analyses.message_sha256', 'analyses.version', 'analyses.analysed_at', 'reports.reporter_address'])
      .where('reports.reporter_address', 'is not', null)
      .where('reports.reporter_user_id', 'is', null)
      .orderBy('reports.received_at', 'desc')
      .limit(MAX_LEARNING_CHAINS * 20)
      .execute();
    refs = rows
      .filter((r) => r.reporter_address !== null && reporterAddressKey(r.reporter_address) === `address:${hash}`)
      .slice(0, MAX_LEARNING_CHAINS);
  } else {
    const q = reportsOfKey(db, key);
    if (q === null) return { learned: [], stale: [] };
    refs = await q.orderBy('reports.received_at', 'desc').limit(MAX_LEARNING_CHAINS).execute();
  }
  const aligned = await chainsOf(db, refs);
  const chains = aligned.filter((c): c is StoredChain => c !== null);
  // One reporter's mail is delivered by one receiving side, and forwarded by their own mailboxes elsewhere; an
  // intake's by every reporter's provider, and one reporter's forwarder is a stranger to the next.
  const own = !key.startsWith('intake:');
  const learned = learnMailhosts(
    chains.map((c) => c.hops),
    trustTableFor([], null),
    own ? { deliveringHosts: true, listMail: chains.map((c) => c.listMail) } : { checkedOnly: true },
  );
  const before = new Set(
    (await db.selectFrom('analysis_mailhosts').select('ip').where('reporter_key', '=', key).execute()).map((r) => r.ip),
  );
  const stale = await staleOrigins(
    db,
    refs,
    aligned.map((c) => c?.hops ?? null),
    learned.filter((e) => !before.has(e)),
  );
  const at = now.toISOString();
  await db.transaction().execute(async (trx) => {
    await lockNames(trx, LOCK_CLASS.mailhostKey, [key]);
    await trx.deleteFrom('analysis_mailhosts').where('reporter_key', '=', key).execute();
    if (learned.length > 0)
      await trx
        .insertInto('analysis_mailhosts')
        .values(learned.map((ip) => ({ reporter_key: key, ip, learned_at: at })))
        .execute();
    await trx.updateTable('analysis_mailhost_keys').set({ learned_at: at }).where('reporter_key', '=', key).execute();
  });
  return { learned, stale };
}

/**
 * Whether a stored origin is one of `added` (learned entries): an address, or a host (`=name`) or a domain that
 * the origin's own hop in `chain` was recorded under (the reverse name its receiver recorded; the walk believes
 * only a checked one, so a message traced again may keep its origin).
 */
export function learnedOrigin(
  added: readonly string[],
): (origin: string, chain: readonly ParsedReceived[] | null) => boolean {
  const ips = new Set(added.filter((e) => normaliseIp(e) !== null));
  const names = new Set(added.filter((e) => e.startsWith('=')).map((e) => e.slice(1)));
  const domains = added.filter((e) => !e.startsWith('=') && !ips.has(e));
  const mine = (h: ParsedReceived): boolean => {
    const name = (h.fromRdns ?? '').toLowerCase().replace(/\.$/, '');
    return names.has(name) || domains.some((d) => name === d || name.endsWith(`.${d}`));
  };
  return (origin, chain) => ips.has(origin) || (chain?.some((h) => h.fromIp === origin && mine(h)) ?? false);
}

/**
 * Of a key's learning window (`refs`, their parsed chains beside them), the messages whose analysis at the
 * current version names as its origin one of `added` ({@link learnedOrigin}).
 */
async function staleOrigins(
  db: Kysely<Database>,
  refs: readonly StoredRef[],
  chains: readonly (ParsedReceived[] | null)[],
  added: readonly string[],
): Promise<string[]> {
  if (added.length === 0) return [];
  const isLearned = learnedOrigin(added);
  const shas = [...new Set(refs.filter((r) => r.version === ANALYSER_VERSION).map((r) => r.message_sha256))];
  const origins = new Map<string, string>();
  for (let i = 0; i < shas.length; i += MAX_LEARNING_CHAINS) {
    const rows = await db
      .selectFrom('analyses')
      .select(['message_sha256', 'origin_ip'])
      .where('version', '=', ANALYSER_VERSION)
      .where('message_sha256', 'in', shas.slice(i, i + MAX_LEARNING_CHAINS))
      .execute();
    for (const r of rows) if (r.origin_ip) origins.set(r.message_sha256, r.origin_ip);
  }
  const stale = new Set<string>();
  refs.forEach((r, i) => {
    const origin = r.version === ANALYSER_VERSION ? origins.get(r.message_sha256) : undefined;
    if (origin !== undefined && isLearned(origin, chains[i] ?? null)) stale.add(r.message_sha256);
  });
  return [...stale];
}
