/**
 * Reads of the tables other areas own (analysis, classification and campaigns, actions), for the
 * web pages and the report index. Each area lands on its own schedule, so every read first checks
 * that its table exists and returns null when it does not: pages render what is there.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Analysis } from '../analysis/analysis-schema.ts';
import { getLatestAnalysis } from '../analysis/repository.ts';
import { currentCategories } from '../campaigns/relabel.ts';

const TABLES = new WeakMap<object, { at: number; names: Map<string, string[]> }>();
/** Tables appear when another area's migration runs; look again at most this often. */
const TABLE_CACHE_MS = 5_000;

/** Columns of a table, or null when the table does not exist. */
export async function tableColumns(db: Kysely<Database>, table: string): Promise<string[] | null> {
  let cached = TABLES.get(db);
  if (!cached || Date.now() - cached.at > TABLE_CACHE_MS) {
    const metas = await db.introspection.getTables();
    cached = { at: Date.now(), names: new Map(metas.map((m) => [m.name, m.columns.map((c) => c.name)])) };
    TABLES.set(db, cached);
  }
  return cached.names.get(table) ?? null;
}

export async function hasTable(db: Kysely<Database>, table: string): Promise<boolean> {
  return (await tableColumns(db, table)) !== null;
}

/** The latest stored analysis of a message (analysis area's repository), or null. */
export async function loadAnalysis(db: Kysely<Database>, sha256: string): Promise<Analysis | null> {
  return getLatestAnalysis(db, sha256);
}

/** True when an analysis of the message is stored (cheap: no document is read). */
export async function hasAnalysis(db: Kysely<Database>, sha256: string): Promise<boolean> {
  const row = await db
    .selectFrom('analyses')
    .select('message_sha256')
    .where('message_sha256', '=', sha256)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Of these messages, those with a stored analysis: one statement for a batch of ≤ 1,000 hashes. */
export async function analysedAmong(db: Kysely<Database>, sha256s: readonly string[]): Promise<Set<string>> {
  if (sha256s.length === 0) return new Set();
  const rows = await db
    .selectFrom('analyses')
    .select('message_sha256')
    .distinct()
    .where('message_sha256', 'in', [...new Set(sha256s)])
    .execute();
  return new Set(rows.map((r) => r.message_sha256));
}

/** Of these messages, those with an automatic classification: one statement for ≤ 1,000 hashes. */
export async function classifiedAmong(db: Kysely<Database>, sha256s: readonly string[]): Promise<Set<string>> {
  if (sha256s.length === 0 || !(await hasTable(db, 'classifications'))) return new Set();
  const rows = await db
    .selectFrom('classifications')
    .select('sha256')
    .where('sha256', 'in', [...new Set(sha256s)])
    .execute();
  return new Set(rows.map((r) => r.sha256));
}

/**
 * Of these messages, those with a stored analysis, with when the latest was made: one statement per
 * 500 hashes.
 */
export async function analysedAtAmong(db: Kysely<Database>, sha256s: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const wanted = [...new Set(sha256s)];
  for (let i = 0; i < wanted.length; i += 500) {
    const rows = await db
      .selectFrom('analyses')
      .select(['message_sha256', 'analysed_at'])
      .where('message_sha256', 'in', wanted.slice(i, i + 500))
      .execute();
    for (const r of rows) {
      const at = out.get(r.message_sha256);
      if (at === undefined || r.analysed_at > at) out.set(r.message_sha256, r.analysed_at);
    }
  }
  return out;
}

/**
 * The category in force for each of these messages, as {@link loadClassification} gives it (the
 * latest relabel, else the automatic verdict), in two statements per 500 hashes; messages with
 * neither are absent.
 */
export async function categoriesOf(db: Kysely<Database>, sha256s: readonly string[]): Promise<Map<string, string>> {
  if (!(await hasTable(db, 'relabels')) || !(await hasTable(db, 'classifications'))) return new Map();
  return currentCategories(db, sha256s);
}

/**
 * The campaign id of each of these messages, following a merge redirect as {@link loadCampaignOf}
 * does; messages in no campaign are absent. Three statements per 500 hashes at most.
 */
export async function campaignIdsOf(db: Kysely<Database>, sha256s: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!(await hasTable(db, 'campaign_messages')) || !(await hasTable(db, 'campaigns'))) return out;
  const wanted = [...new Set(sha256s)];
  for (let i = 0; i < wanted.length; i += 500) {
    const members = await db
      .selectFrom('campaign_messages')
      .select(['sha256', 'campaign_id'])
      .where('sha256', 'in', wanted.slice(i, i + 500))
      .execute();
    if (members.length === 0) continue;
    const merged = async (ids: string[]) =>
      new Map(
        (
          await db
            .selectFrom('campaigns')
            .select(['id', 'merged_into'])
            .where('id', 'in', [...new Set(ids)])
            .execute()
        ).map((c) => [c.id, c.merged_into]),
      );
    const first = await merged(members.map((m) => m.campaign_id));
    const targets = [...first.values()].filter((t): t is string => t !== null);
    const second = targets.length > 0 ? await merged(targets) : new Map<string, string | null>();
    for (const m of members) {
      if (!first.has(m.campaign_id)) continue;
      const into = first.get(m.campaign_id);
      if (!into) out.set(m.sha256, m.campaign_id);
      else if (second.has(into)) out.set(m.sha256, into);
    }
  }
  return out;
}

export interface ClassificationView {
  category: string;
  confidence: number | null;
  reasons: string[];
  /** Set when an analyst relabelled the report. */
  relabel: { by: string; at: string; previous: string | null } | null;
}

/**
 * The category in force for a report's message: the latest analyst relabel of that message (a
 * category belongs to the message, as in src/campaigns/relabel.ts), else the automatic verdict.
 */
export async function loadClassification(
  db: Kysely<Database>,
  _reportId: string,
  sha256: string,
): Promise<ClassificationView | null> {
  if (await hasTable(db, 'relabels')) {
    const r = await db
      .selectFrom('relabels')
      .selectAll()
      .where('message_sha256', '=', sha256)
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (r)
      return {
        category: r.category,
        confidence: null,
        reasons: [],
        relabel: { by: r.actor, at: r.at, previous: r.previous_category },
      };
  }
  if (await hasTable(db, 'classifications')) {
    const c = await db.selectFrom('classifications').selectAll().where('sha256', '=', sha256).executeTakeFirst();
    if (c)
      return {
        category: c.category,
        confidence: Number(c.confidence),
        reasons: parseReasons(c.reasons),
        relabel: null,
      };
  }
  return null;
}

function parseReasons(text: string): string[] {
  try {
    const v: unknown = JSON.parse(text);
    if (!Array.isArray(v)) return [];
    return v.map((x) =>
      typeof x === 'string'
        ? x
        : typeof x === 'object' && x !== null
          ? Object.values(x).map(String).join(' · ')
          : String(x),
    );
  } catch {
    return [];
  }
}

export interface RelabelEntry {
  category: string;
  previous: string | null;
  actor: string;
  at: string;
}

export async function relabelHistory(db: Kysely<Database>, sha256: string): Promise<RelabelEntry[]> {
  if (!(await hasTable(db, 'relabels'))) return [];
  const rows = await db
    .selectFrom('relabels')
    .selectAll()
    .where('message_sha256', '=', sha256)
    .orderBy('at', 'desc')
    .limit(50)
    .execute();
  return rows.map((r) => ({ category: r.category, previous: r.previous_category, actor: r.actor, at: r.at }));
}

export interface CampaignView {
  id: string;
  category: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
  reportCount: number;
  messageCount: number;
  /** Share of its messages in the majority category. */
  purity: number;
  /** Share of its messages classified legitimate. */
  legitimateShare: number;
}

/** The campaign a message belongs to (following a merge redirect). */
export async function loadCampaignOf(db: Kysely<Database>, sha256: string): Promise<CampaignView | null> {
  if (!(await hasTable(db, 'campaign_messages'))) return null;
  const m = await db
    .selectFrom('campaign_messages')
    .select('campaign_id')
    .where('sha256', '=', sha256)
    .executeTakeFirst();
  return m ? loadCampaign(db, m.campaign_id) : null;
}

export async function loadCampaign(db: Kysely<Database>, id: string): Promise<CampaignView | null> {
  if (!(await hasTable(db, 'campaigns'))) return null;
  let c = await db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  if (c?.merged_into)
    c = await db.selectFrom('campaigns').selectAll().where('id', '=', c.merged_into).executeTakeFirst();
  if (!c) return null;
  return {
    id: c.id,
    category: c.category,
    firstSeenAt: c.first_seen_at,
    lastSeenAt: c.last_seen_at,
    reportCount: Number(c.report_count),
    messageCount: Number(c.message_count),
    purity: Number(c.purity),
    legitimateShare: Number(c.legitimate_share),
  };
}

/** The campaign's story facts (subjects, senders, domains, …), most frequent first. */
export async function campaignFacts(
  db: Kysely<Database>,
  id: string,
): Promise<{ kind: string; value: string; count: number }[]> {
  if (!(await hasTable(db, 'campaign_facts'))) return [];
  const rows = await db
    .selectFrom('campaign_facts')
    .select(['kind', 'value', 'count'])
    .where('campaign_id', '=', id)
    .orderBy('kind')
    .orderBy('count', 'desc')
    .limit(500)
    .execute();
  return rows.map((r) => ({ kind: r.kind, value: r.value, count: Number(r.count) }));
}

/** Names of the authorities a report's cases were referred to (no other reporter's data). */
export async function referralsOf(db: Kysely<Database>, reportId: string): Promise<string[]> {
  if (
    !(await hasTable(db, 'action_case_reports')) ||
    !(await hasTable(db, 'action_referrals')) ||
    !(await hasTable(db, 'action_authorities'))
  )
    return [];
  const rows = await db
    .selectFrom('action_case_reports as cr')
    .innerJoin('action_referrals as rf', 'rf.case_id', 'cr.case_id')
    .innerJoin('action_authorities as a', 'a.id', 'rf.authority_id')
    .select('a.name')
    .distinct()
    .where('cr.report_id', '=', reportId)
    .execute();
  return rows.map((r) => r.name);
}

/** Authorities an account acts for through the actions area's table. */
export async function authorityIdsOfUser(db: Kysely<Database>, userId: string): Promise<string[]> {
  if (!(await hasTable(db, 'action_authorities'))) return [];
  const rows = await db.selectFrom('action_authorities').select('id').where('user_id', '=', userId).execute();
  return rows.map((r) => r.id);
}

/** AS numbers of the network operators an account speaks for through the actions area's tables. */
export async function asnsOfUser(db: Kysely<Database>, userId: string): Promise<number[]> {
  if (!(await hasTable(db, 'action_operators')) || !(await hasTable(db, 'action_operator_asns'))) return [];
  const rows = await db
    .selectFrom('action_operator_asns as oa')
    .innerJoin('action_operators as o', 'o.id', 'oa.operator_id')
    .select('oa.asn')
    .where('o.user_id', '=', userId)
    .execute();
  return rows.map((r) => Number(r.asn));
}

/**
 * Network operators (actions area) an account speaks for: linked to the account, or owning one
 * of the AS numbers the account lists. Empty when the actions area is not installed.
 */
export async function operatorIdsOfUser(
  db: Kysely<Database>,
  userId: string,
  asns: readonly number[],
): Promise<string[]> {
  if (!(await hasTable(db, 'action_operators')) || !(await hasTable(db, 'action_operator_asns'))) return [];
  const linked = (await db.selectFrom('action_operators').select('id').where('user_id', '=', userId).execute()).map(
    (r) => r.id,
  );
  const byAsn =
    asns.length > 0
      ? (
          await db
            .selectFrom('action_operator_asns')
            .select('operator_id')
            .where('asn', 'in', [...asns])
            .execute()
        ).map((r) => r.operator_id)
      : [];
  return [...new Set([...linked, ...byAsn])];
}
