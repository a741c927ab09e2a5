/**
 * Incremental near-duplicate clustering. Each message is placed by index lookups only — its LSH
 * band keys, then its strong-link values — so the work per message does not grow with the number
 * of stored messages: a message joins the campaign whose representative it resembles (estimated
 * Jaccard ≥ {@link JOIN_THRESHOLD}) or with which it shares a strong link, starts a campaign when
 * there is none, and merges campaigns it bridges. Merged campaigns keep their id, which redirects
 * (one step, `campaigns.merged_into`) to the survivor: the oldest of them.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { newId } from '../core/ids.ts';
import type { Fact, Fingerprint, Link } from './fingerprint.ts';
import { signatureFromBytes, signatureToBytes, similarity } from './minhash.ts';

/** Estimated Jaccard similarity at or above which a message joins a representative's campaign. */
export const JOIN_THRESHOLD = 0.5;
/** Below this best similarity a joining message becomes a new representative of its campaign. */
export const NEW_REP_BELOW = 0.8;
/** Most band rows and representatives examined per message: a constant bound on the work. */
const MAX_BAND_ROWS = 256;
const MAX_CANDIDATE_REPS = 24;

export interface IngestMeta {
  /** When the message was reported (ISO 8601); feeds first/last seen and the by-day counts. */
  seenAt: string;
  category: string | null;
}

export interface Placement {
  campaignId: string;
  created: boolean;
  /** `new`, `repeat` (already clustered), `lsh` or `link:<kind>`. */
  via: string;
  similarity: number;
  /** Campaign ids merged into `campaignId` by this message. */
  merged: string[];
}

export interface Match {
  campaignId: string;
  /** Best estimated text similarity to the campaign's representatives (0 when linked only). */
  similarity: number;
  /** `text` and/or the strong-link kinds that matched. */
  matchedBy: string[];
  /** The campaign's current category. */
  category: string | null;
}

type Db = Kysely<Database>;

/** Follows merge redirects (one step by construction) for a set of ids. */
async function resolveIds(db: Db, ids: readonly string[]): Promise<Map<string, { root: string; category: string | null }>> {
  const out = new Map<string, { root: string; category: string | null }>();
  if (ids.length === 0) return out;
  const rows = await db.selectFrom('campaigns').select(['id', 'merged_into', 'category']).where('id', 'in', [...new Set(ids)]).execute();
  for (const r of rows) out.set(r.id, { root: r.merged_into ?? r.id, category: r.merged_into ? null : r.category });
  return out;
}

/** Candidate campaigns for a fingerprint, by band keys and strong links: index lookups only. */
export async function findMatches(db: Db, fp: Fingerprint): Promise<Match[]> {
  return (await findMatchesAndLinks(db, fp)).matches;
}

async function findMatchesAndLinks(db: Db, fp: Fingerprint): Promise<{ matches: Match[]; knownLinks: Set<string> }> {
  const knownLinks = new Set<string>();
  const byCampaign = new Map<string, Match>();
  const raw: { id: string; sim: number; by: string }[] = [];
  if (fp.signature && fp.bands.length > 0) {
    const bandRows = await db.selectFrom('campaign_bands').select(['rep_id']).where('band_key', 'in', fp.bands).limit(MAX_BAND_ROWS).execute();
    const hits = new Map<string, number>();
    for (const r of bandRows) hits.set(r.rep_id, (hits.get(r.rep_id) ?? 0) + 1);
    const reps = [...hits.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_CANDIDATE_REPS).map(([id]) => id);
    if (reps.length > 0) {
      const repRows = await db.selectFrom('campaign_reps').select(['campaign_id', 'signature']).where('id', 'in', reps).execute();
      for (const r of repRows) {
        const sim = similarity(fp.signature, signatureFromBytes(r.signature));
        if (sim >= JOIN_THRESHOLD) raw.push({ id: r.campaign_id, sim, by: 'text' });
      }
    }
  }
  if (fp.links.length > 0) {
    const linkRows = await db
      .selectFrom('campaign_links')
      .select(['kind', 'value', 'campaign_id'])
      .where((eb) => eb.or(groupLinks(fp.links).map(([kind, values]) => eb.and([eb('kind', '=', kind), eb('value', 'in', values)]))))
      .execute();
    for (const r of linkRows) {
      raw.push({ id: r.campaign_id, sim: 0, by: r.kind });
      knownLinks.add(`${r.kind}\u0000${r.value}`);
    }
  }
  const roots = await resolveIds(db, raw.map((r) => r.id));
  for (const r of raw) {
    const root = roots.get(r.id);
    const id = root?.root ?? r.id;
    const category = root && root.root === r.id ? root.category : (roots.get(id)?.category ?? null);
    const m = byCampaign.get(id) ?? { campaignId: id, similarity: 0, matchedBy: [], category };
    m.similarity = Math.max(m.similarity, r.sim);
    if (!m.matchedBy.includes(r.by)) m.matchedBy.push(r.by);
    byCampaign.set(id, m);
  }
  const matches = [...byCampaign.values()].sort((a, b) => b.similarity - a.similarity || (a.campaignId < b.campaignId ? -1 : 1));
  return { matches, knownLinks };
}

function groupLinks(links: readonly Link[]): [string, string[]][] {
  const m = new Map<string, string[]>();
  for (const l of links) m.set(l.kind, [...(m.get(l.kind) ?? []), l.value]);
  return [...m.entries()];
}

/** Adds facts to a campaign's story (count += n, first/last seen widened). */
async function addFacts(db: Db, campaignId: string, facts: readonly (Fact & { count?: number; first?: string; last?: string })[], at: string): Promise<void> {
  if (facts.length === 0) return;
  const seen = new Set<string>();
  const rows = [];
  for (const f of facts) {
    const key = `${f.kind}\u0000${f.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({ campaign_id: campaignId, kind: f.kind, value: f.value, count: f.count ?? 1, first_seen_at: f.first ?? at, last_seen_at: f.last ?? at });
  }
  await db
    .insertInto('campaign_facts')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['campaign_id', 'kind', 'value']).doUpdateSet({
        count: sql`campaign_facts.count + excluded.count`,
        first_seen_at: sql`case when excluded.first_seen_at < campaign_facts.first_seen_at then excluded.first_seen_at else campaign_facts.first_seen_at end`,
        last_seen_at: sql`case when excluded.last_seen_at > campaign_facts.last_seen_at then excluded.last_seen_at else campaign_facts.last_seen_at end`,
      }),
    )
    .execute();
}

/** Sets a campaign's category to its most frequent message category. */
async function refreshCategory(db: Db, campaignId: string): Promise<void> {
  const top = await db
    .selectFrom('campaign_facts')
    .select(['value', 'count'])
    .where('campaign_id', '=', campaignId)
    .where('kind', '=', 'category')
    .orderBy('count', 'desc')
    .orderBy('value')
    .limit(1)
    .executeTakeFirst();
  if (top) await db.updateTable('campaigns').set({ category: top.value }).where('id', '=', campaignId).execute();
}

/**
 * Merges `losers` into `winner`: members and story move to the winner, the losers (and anything
 * that already redirected to them) redirect to it. Representatives, band keys and links stay
 * where they are and resolve through the redirect, so a merge costs the size of the losers'
 * membership, never a scan of the store.
 */
export async function mergeCampaigns(db: Db, winner: string, losers: readonly string[], at: string): Promise<void> {
  if (losers.length === 0) return;
  const rows = await db.selectFrom('campaigns').selectAll().where('id', 'in', [winner, ...losers]).execute();
  const w = rows.find((r) => r.id === winner);
  if (!w) throw new Error(`campaign ${winner} does not exist`);
  let messages = w.message_count;
  let reports = w.report_count;
  let first = w.first_seen_at;
  let last = w.last_seen_at;
  for (const r of rows) {
    if (r.id === winner) continue;
    messages += r.message_count;
    reports += r.report_count;
    if (r.first_seen_at < first) first = r.first_seen_at;
    if (r.last_seen_at > last) last = r.last_seen_at;
  }
  await db.updateTable('campaigns').set({ merged_into: winner, updated_at: at }).where((eb) => eb.or([eb('id', 'in', losers), eb('merged_into', 'in', losers)])).execute();
  await db.updateTable('campaign_messages').set({ campaign_id: winner }).where('campaign_id', 'in', losers).execute();
  const facts = await db.selectFrom('campaign_facts').selectAll().where('campaign_id', 'in', losers).execute();
  const summed = new Map<string, { kind: Fact['kind']; value: string; count: number; first: string; last: string }>();
  for (const f of facts) {
    const key = `${f.kind}\u0000${f.value}`;
    const s = summed.get(key);
    if (s) {
      s.count += f.count;
      if (f.first_seen_at < s.first) s.first = f.first_seen_at;
      if (f.last_seen_at > s.last) s.last = f.last_seen_at;
    } else {
      summed.set(key, { kind: f.kind as Fact['kind'], value: f.value, count: f.count, first: f.first_seen_at, last: f.last_seen_at });
    }
  }
  const chunk = [...summed.values()];
  for (let i = 0; i < chunk.length; i += 200) await addFacts(db, winner, chunk.slice(i, i + 200), at);
  await db.deleteFrom('campaign_facts').where('campaign_id', 'in', losers).execute();
  await db
    .updateTable('campaigns')
    .set({ message_count: messages, report_count: reports, first_seen_at: first, last_seen_at: last, updated_at: at })
    .where('id', '=', winner)
    .execute();
  await refreshCategory(db, winner);
}

/**
 * Places one message (call inside a transaction: the steps must commit together). A message seen
 * before only adds a report to its campaign.
 */
export async function ingestFingerprint(db: Db, fp: Fingerprint, meta: IngestMeta): Promise<Placement> {
  const day = meta.seenAt.slice(0, 10);
  const reportFacts: Fact[] = [{ kind: 'day', value: day }];
  const existing = await db.selectFrom('campaign_messages').select(['campaign_id']).where('sha256', '=', fp.sha256).executeTakeFirst();
  if (existing) {
    const id = (await resolveIds(db, [existing.campaign_id])).get(existing.campaign_id)?.root ?? existing.campaign_id;
    await db
      .updateTable('campaigns')
      .set((eb) => ({
        report_count: eb('report_count', '+', 1),
        last_seen_at: sql<string>`case when last_seen_at < ${meta.seenAt} then ${meta.seenAt} else last_seen_at end`,
        updated_at: meta.seenAt,
      }))
      .where('id', '=', id)
      .execute();
    await addFacts(db, id, reportFacts, meta.seenAt);
    return { campaignId: id, created: false, via: 'repeat', similarity: 1, merged: [] };
  }

  const { matches, knownLinks } = await findMatchesAndLinks(db, fp);
  let campaignId: string;
  let currentCategory: string | null = null;
  let created = false;
  let via = 'new';
  let sim = 1;
  const merged: string[] = [];
  if (matches.length === 0) {
    campaignId = newId();
    created = true;
    await db
      .insertInto('campaigns')
      .values({ id: campaignId, merged_into: null, category: meta.category, first_seen_at: meta.seenAt, last_seen_at: meta.seenAt, message_count: 0, report_count: 0, created_at: meta.seenAt, updated_at: meta.seenAt })
      .execute();
  } else {
    // The oldest campaign survives (ULIDs sort by creation time), so ids stay stable.
    const ids = matches.map((m) => m.campaignId).sort();
    campaignId = ids[0];
    currentCategory = matches.find((m) => m.campaignId === campaignId)?.category ?? null;
    const best = matches.reduce((a, b) => (b.similarity > a.similarity ? b : a));
    sim = best.similarity;
    via = best.matchedBy.includes('text') ? 'lsh' : `link:${best.matchedBy[0]}`;
    if (ids.length > 1) {
      merged.push(...ids.slice(1));
      await mergeCampaigns(db, campaignId, merged, meta.seenAt);
    }
  }

  await db.insertInto('campaign_messages').values({ sha256: fp.sha256, campaign_id: campaignId, kind: fp.kind, via, similarity: sim, joined_at: meta.seenAt }).execute();
  await db
    .updateTable('campaigns')
    .set((eb) => ({
      message_count: eb('message_count', '+', 1),
      report_count: eb('report_count', '+', 1),
      first_seen_at: sql<string>`case when first_seen_at > ${meta.seenAt} then ${meta.seenAt} else first_seen_at end`,
      last_seen_at: sql<string>`case when last_seen_at < ${meta.seenAt} then ${meta.seenAt} else last_seen_at end`,
      updated_at: meta.seenAt,
    }))
    .where('id', '=', campaignId)
    .execute();
  const facts: Fact[] = [...reportFacts, ...fp.facts];
  if (meta.category) facts.push({ kind: 'category', value: meta.category });
  await addFacts(db, campaignId, facts, meta.seenAt);
  // The majority can only change when this message's category differs from the campaign's.
  if (meta.category && !created && (merged.length > 0 || meta.category !== currentCategory)) await refreshCategory(db, campaignId);

  const newLinks = fp.links.filter((l) => !knownLinks.has(`${l.kind}\u0000${l.value}`));
  if (newLinks.length > 0) {
    await db
      .insertInto('campaign_links')
      .values(newLinks.map((l) => ({ kind: l.kind, value: l.value, campaign_id: campaignId, created_at: meta.seenAt })))
      .onConflict((oc) => oc.columns(['kind', 'value']).doNothing())
      .execute();
  }
  const textMatched = via === 'lsh';
  if (fp.signature && (!textMatched || sim < NEW_REP_BELOW)) {
    const repId = newId();
    await db.insertInto('campaign_reps').values({ id: repId, campaign_id: campaignId, signature: signatureToBytes(fp.signature), created_at: meta.seenAt }).execute();
    await db
      .insertInto('campaign_bands')
      .values(fp.bands.map((k) => ({ band_key: k, rep_id: repId, campaign_id: campaignId })))
      .execute();
  }
  return { campaignId, created, via, similarity: sim, merged };
}
