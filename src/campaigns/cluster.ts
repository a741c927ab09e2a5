/**
 * Incremental near-duplicate clustering without chaining. Each message is placed by index
 * look-ups only — its LSH band keys, then its strong-link values — so the work per message does
 * not grow with the number of stored messages.
 *
 * Single-link clustering chains: a message that resembles one member joins, the next resembles
 * that one, and unrelated mail ends up in one "campaign" (seen on real mixed data: one campaign of
 * 7,053 messages, newsletters and phishing together, joined through `sourceforge.net` and a
 * mailing-list footer). So every decision is taken against the campaign itself:
 *
 * - **Core.** A campaign's core is its founding message's signature. A message joins by text when
 *   it resembles one of the campaign's representatives (estimated Jaccard ≥ {@link JOIN_THRESHOLD})
 *   *and* stays within {@link CORE_FLOOR} of the core; representatives are only ever added from
 *   such members, so the campaign cannot drift away from what founded it.
 * - **Merges** happen only when two campaigns' cores resemble each other
 *   ({@link MERGE_THRESHOLD}), never because one message matched both.
 * - **Strong links** (advertised domain, phone, wallet, attachment) join only when specific: not a
 *   platform, brand or resource host (fingerprint.ts), not a value already seen in two unrelated
 *   campaigns (its `spread`), and — for a domain or a phone — only when the texts do not
 *   contradict it: the message also resembles the core a little ({@link LINK_TEXT_FLOOR}), or one
 *   side has no text to compare (image-only spam, another channel), or both the message and the
 *   campaign are classified abusive (an operation rotating its texts keeps its landing domain).
 *   Wallets and non-image attachments are specific on their own.
 * - **Legitimate and abusive mail do not mix.** A message classified legitimate joins an abusive
 *   campaign (and the other way round) only as a near-copy ({@link CROSS_POLARITY_MIN}) of a
 *   member: then the classifier, not the clustering, is probably wrong about one of them.
 *
 * Merged campaigns keep their id, which redirects (one step, `campaigns.merged_into`) to the
 * survivor: the oldest of them.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { newId } from '../core/ids.ts';
import type { Fact, Fingerprint, Link, LinkKind } from './fingerprint.ts';
import { signatureFromBytes, signatureToBytes, similarity } from '../analysis/text/minhash.ts';
import { addFacts, mergeCampaigns, polarityOf, refreshStanding, type Polarity } from './campaign-store.ts';

export { mergeCampaigns } from './campaign-store.ts';

/** Estimated Jaccard similarity to a representative at or above which a message joins by text. */
export const JOIN_THRESHOLD = 0.5;
/** Similarity to the campaign's core every text member keeps: what stops a chain of look-alikes. */
export const CORE_FLOOR = 0.3;
/** Below this best similarity a joining message becomes a new representative of its campaign. */
export const NEW_REP_BELOW = 0.8;
/** Two campaigns merge only when their cores are at least this similar. */
export const MERGE_THRESHOLD = 0.5;
/** A domain or phone link needs at least this text similarity to the core when both have text. */
export const LINK_TEXT_FLOOR = 0.25;
/** A legitimate message joins an abusive campaign (or the reverse) only as a near-copy. */
export const CROSS_POLARITY_MIN = 0.8;
/** A link value seen in this many distinct campaigns is shared infrastructure: it links nothing. */
export const GENERIC_SPREAD = 2;
/** Link kinds specific enough to join on their own (no text corroboration). */
const SELF_SUFFICIENT_LINKS: ReadonlySet<LinkKind> = new Set(['wallet', 'attachment']);
/** Most band rows and representatives examined per message: a constant bound on the work. */
export const MAX_BAND_ROWS = 256;
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
  /** Its size and time span when matched. */
  figures: CampaignFigures;
}

type Db = Kysely<Database>;

/** What matching reads of a fingerprint (a look-up has no facts or hash to give). */
export type MatchPrint = Pick<Fingerprint, 'kind' | 'signature' | 'bands' | 'links'>;

/** What the index knows of one campaign a message may belong to. */
interface Candidate {
  id: string;
  category: string | null;
  core: Uint32Array | null;
  coreKind: string | null;
  figures: CampaignFigures;
  /** Best similarity to one of its representatives found through the band index. */
  repSim: number;
  /** Similarity to its core (null when either side has no signature). */
  coreSim: number | null;
  /** Specific link kinds shared with the message. */
  links: LinkKind[];
}

interface Lookup {
  candidates: Candidate[];
  /** Link rows the message's values already have: value key → campaign root it belongs to. */
  knownLinks: Map<string, string>;
}

const linkKey = (l: { kind: string; value: string }) => `${l.kind}\u0000${l.value}`;

/** A campaign's size and time span, as the look-up answers them. */
export interface CampaignFigures {
  reportCount: number;
  messageCount: number;
  firstSeen: string;
  lastSeen: string;
}

interface Root {
  category: string | null;
  core: Uint32Array | null;
  coreKind: string | null;
  figures: CampaignFigures;
}

/** One campaign row as the match reads it. */
export interface CampaignRow {
  id: string;
  merged_into: string | null;
  category: string | null;
  core_signature: Uint8Array | null;
  core_kind: string | null;
  report_count: number | string | bigint;
  message_count: number | string | bigint;
  first_seen_at: string;
  last_seen_at: string;
}

/**
 * The index reads that place or look up a message: band rows (at most {@link MAX_BAND_ROWS}, in
 * index order), representatives by id, link rows by value, campaigns by id. {@link kyselyReads}
 * runs them on either engine (inside a placement's transaction); the look-up's SQLite path runs
 * the same statements without the query builder (`match-reads.ts`). Each gives the same rows.
 */
export interface MatchReads {
  bandRows(bands: readonly number[]): Promise<{ rep_id: string }[]> | { rep_id: string }[];
  reps(ids: readonly string[]): Promise<RepRow[]> | RepRow[];
  links(links: readonly Link[]): Promise<LinkRow[]> | LinkRow[];
  campaigns(ids: readonly string[]): Promise<CampaignRow[]> | CampaignRow[];
}

export interface RepRow {
  campaign_id: string;
  signature: Uint8Array;
}

export interface LinkRow {
  kind: string;
  value: string;
  campaign_id: string;
  spread: number | string | bigint;
}

/** {@link MatchReads} through Kysely, on either engine (and inside a transaction). */
export function kyselyReads(db: Db): MatchReads {
  return {
    bandRows: (bands) => bandRowsQuery(db, bands).execute(),
    reps: (ids) =>
      db
        .selectFrom('campaign_reps')
        .select(['campaign_id', 'signature'])
        .where('id', 'in', [...ids])
        .execute(),
    links: (links) =>
      db
        .selectFrom('campaign_links')
        .select(['kind', 'value', 'campaign_id', 'spread'])
        .where((eb) =>
          eb.or(groupLinks(links).map(([kind, values]) => eb.and([eb('kind', '=', kind), eb('value', 'in', values)]))),
        )
        .execute(),
    campaigns: (ids) =>
      db
        .selectFrom('campaigns')
        .select([
          'id',
          'merged_into',
          'category',
          'core_signature',
          'core_kind',
          'report_count',
          'message_count',
          'first_seen_at',
          'last_seen_at',
        ])
        .where('id', 'in', [...ids])
        .execute(),
  };
}

/**
 * Follows merge redirects (one step by construction) and reads each root's core, category and
 * figures (the look-up answers them: read here, not in a query of their own).
 */
async function rootsOf(
  reads: MatchReads,
  ids: readonly string[],
): Promise<{
  rootOf: Map<string, string>;
  roots: Map<string, Root>;
}> {
  const rootOf = new Map<string, string>();
  const roots = new Map<string, Root>();
  if (ids.length === 0) return { rootOf, roots };
  const read = (list: string[]) => reads.campaigns(list);
  const rootFrom = (r: CampaignRow): Root => ({
    category: r.category,
    core: r.core_signature ? signatureFromBytes(r.core_signature) : null,
    coreKind: r.core_kind,
    figures: {
      reportCount: Number(r.report_count),
      messageCount: Number(r.message_count),
      firstSeen: r.first_seen_at,
      lastSeen: r.last_seen_at,
    },
  });
  const rows = await read([...new Set(ids)]);
  const missing = new Set<string>();
  for (const r of rows) {
    rootOf.set(r.id, r.merged_into ?? r.id);
    if (r.merged_into) missing.add(r.merged_into);
    else roots.set(r.id, rootFrom(r));
  }
  for (const id of roots.keys()) missing.delete(id);
  if (missing.size > 0) {
    for (const r of await read([...missing])) roots.set(r.id, rootFrom(r));
  }
  return { rootOf, roots };
}

/**
 * The representatives sharing a band with a message, at most {@link MAX_BAND_ROWS} rows. In index
 * order (migration 0291): the bound stops one index range read per key, and even without statistics
 * the engine scans the table only while it is small (the old unordered `LIMIT` made a table scan look
 * cheapest at every size); the rows it keeps are the same on every engine and plan.
 */
export function bandRowsQuery(db: Db, bands: readonly number[]) {
  return db
    .selectFrom('campaign_bands')
    .select(['rep_id'])
    .where('band_key', 'in', bands)
    .orderBy('band_key')
    .orderBy('rep_id')
    .limit(MAX_BAND_ROWS);
}

/** Candidate campaigns for a fingerprint, by band keys and specific links: index look-ups only. */
async function lookup(reads: MatchReads, fp: MatchPrint): Promise<Lookup> {
  const repSims: { campaign: string; sim: number }[] = [];
  if (fp.signature && fp.bands.length > 0) {
    const bandRows = await reads.bandRows(fp.bands);
    const hits = new Map<string, number>();
    for (const r of bandRows) hits.set(r.rep_id, (hits.get(r.rep_id) ?? 0) + 1);
    const reps = [...hits.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, MAX_CANDIDATE_REPS)
      .map(([id]) => id);
    if (reps.length > 0) {
      for (const r of await reads.reps(reps))
        repSims.push({ campaign: r.campaign_id, sim: similarity(fp.signature, signatureFromBytes(r.signature)) });
    }
  }
  const linkRows = fp.links.length ? await reads.links(fp.links) : [];
  const { rootOf, roots } = await rootsOf(reads, [
    ...repSims.map((r) => r.campaign),
    ...linkRows.map((r) => r.campaign_id),
  ]);
  const byId = new Map<string, Candidate>();
  const candidate = (rawId: string): Candidate | null => {
    const id = rootOf.get(rawId) ?? rawId;
    const root = roots.get(id);
    if (!root) return null;
    let c = byId.get(id);
    if (!c) {
      const coreSim = fp.signature && root.core ? similarity(fp.signature, root.core) : null;
      c = {
        id,
        category: root.category,
        core: root.core,
        coreKind: root.coreKind,
        figures: root.figures,
        repSim: 0,
        coreSim,
        links: [],
      };
      byId.set(id, c);
    }
    return c;
  };
  for (const r of repSims) {
    const c = candidate(r.campaign);
    if (c && r.sim > c.repSim) c.repSim = r.sim;
  }
  const knownLinks = new Map<string, string>();
  for (const r of linkRows) {
    const root = rootOf.get(r.campaign_id) ?? r.campaign_id;
    knownLinks.set(linkKey(r), root);
    if (Number(r.spread) >= GENERIC_SPREAD) continue;
    const c = candidate(r.campaign_id);
    const kind = r.kind as LinkKind;
    if (c && !c.links.includes(kind)) c.links.push(kind);
  }
  return { candidates: [...byId.values()], knownLinks };
}

/** How a message may join a candidate campaign, or null when it may not. */
function joinBy(fp: MatchPrint, c: Candidate, polarity: Polarity): 'text' | LinkKind | null {
  // A campaign whose core has no text (image-only founder) is judged by its representatives alone.
  const inCore = c.coreSim === null || c.coreSim >= CORE_FLOOR;
  const campaignPolarity = polarityOf(c.category);
  if (polarity && campaignPolarity && polarity !== campaignPolarity) {
    return c.repSim >= CROSS_POLARITY_MIN && inCore ? 'text' : null;
  }
  if (c.repSim >= JOIN_THRESHOLD && inCore) return 'text';
  const alone = c.links.find((k) => SELF_SUFFICIENT_LINKS.has(k));
  if (alone) return alone;
  if (c.links.length === 0) return null;
  // An operation that rotates its texts keeps its landing domain: between two messages both
  // classified abusive, a specific advertised domain or phone is enough.
  if (polarity === 'abusive' && campaignPolarity === 'abusive') return c.links[0];
  // Texts of two channels (an SMS and an e-mail) are written differently: only the link can tell.
  const textSilent = c.coreSim === null || (c.coreKind !== null && c.coreKind !== fp.kind);
  if (textSilent || (c.coreSim ?? 0) >= LINK_TEXT_FLOOR) return c.links[0];
  return null;
}

/** The campaigns a fingerprint belongs to, best first (text before links, then similarity, then age). */
function eligible(
  fp: MatchPrint,
  candidates: readonly Candidate[],
  polarity: Polarity,
): { c: Candidate; by: string }[] {
  const out: { c: Candidate; by: string }[] = [];
  for (const c of candidates) {
    const by = joinBy(fp, c, polarity);
    if (by) out.push({ c, by });
  }
  const score = (x: { c: Candidate; by: string }) => Math.max(x.c.repSim, x.c.coreSim ?? 0);
  return out.sort(
    (a, b) =>
      (a.by === 'text' ? 0 : 1) - (b.by === 'text' ? 0 : 1) || score(b) - score(a) || (a.c.id < b.c.id ? -1 : 1),
  );
}

/**
 * Candidate campaigns a message would join, for the mail filters' look-up: the same rules as
 * ingest, with no category (a look-up has not been classified).
 */
export async function findMatches(db: Db | MatchReads, fp: MatchPrint): Promise<Match[]> {
  const { candidates } = await lookup('bandRows' in db ? db : kyselyReads(db), fp);
  return eligible(fp, candidates, null).map(({ c, by }) => ({
    campaignId: c.id,
    similarity: Math.max(c.repSim, c.coreSim ?? 0),
    matchedBy: by === 'text' ? ['text', ...c.links] : [...new Set([by, ...c.links])],
    category: c.category,
    figures: c.figures,
  }));
}

export function groupLinks(links: readonly Link[]): [string, string[]][] {
  const m = new Map<string, string[]>();
  for (const l of links) m.set(l.kind, [...(m.get(l.kind) ?? []), l.value]);
  return [...m.entries()];
}

/**
 * Places one message (call inside a transaction: the steps must commit together). A message seen
 * before only adds a report to its campaign.
 */
export async function ingestFingerprint(db: Db, fp: Fingerprint, meta: IngestMeta): Promise<Placement> {
  const day = meta.seenAt.slice(0, 10);
  const reportFacts: Fact[] = [{ kind: 'day', value: day }];
  const existing = await db
    .selectFrom('campaign_messages')
    .select(['campaign_id'])
    .where('sha256', '=', fp.sha256)
    .executeTakeFirst();
  if (existing) {
    const id =
      (await rootsOf(kyselyReads(db), [existing.campaign_id])).rootOf.get(existing.campaign_id) ?? existing.campaign_id;
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

  const polarity = polarityOf(meta.category);
  const { candidates, knownLinks } = await lookup(kyselyReads(db), fp);
  const ranked = eligible(fp, candidates, polarity);
  let campaignId: string;
  let created = false;
  let via = 'new';
  let sim = 1;
  let core: Uint32Array | null = fp.signature;
  const merged: string[] = [];
  if (ranked.length === 0) {
    campaignId = newId();
    created = true;
    await db
      .insertInto('campaigns')
      .values({
        id: campaignId,
        merged_into: null,
        category: meta.category,
        core_signature: fp.signature ? signatureToBytes(fp.signature) : null,
        core_kind: fp.kind,
        purity: 1,
        legitimate_share: meta.category === 'legitimate' ? 1 : 0,
        first_seen_at: meta.seenAt,
        last_seen_at: meta.seenAt,
        message_count: 0,
        report_count: 0,
        created_at: meta.seenAt,
        updated_at: meta.seenAt,
      })
      .execute();
  } else {
    const best = ranked[0];
    via = best.by === 'text' ? 'lsh' : `link:${best.by}`;
    sim = Math.max(best.c.repSim, best.c.coreSim ?? 0);
    // Other campaigns this message also matches by text merge only when their cores agree with the
    // best one's; the oldest survives (ULIDs sort by creation time), so ids stay stable.
    const family = [best.c];
    if (best.c.core) {
      for (const { c, by } of ranked.slice(1)) {
        if (by !== 'text' || !c.core) continue;
        if (
          similarity(best.c.core, c.core) >= MERGE_THRESHOLD &&
          polarityOf(c.category) === polarityOf(best.c.category)
        )
          family.push(c);
      }
    }
    const survivor = family.reduce((a, b) => (b.id < a.id ? b : a));
    campaignId = survivor.id;
    core = survivor.core;
    if (family.length > 1) {
      merged.push(...family.filter((c) => c.id !== survivor.id).map((c) => c.id));
      await mergeCampaigns(db, campaignId, merged, meta.seenAt);
    }
    // A campaign founded by a message without text takes the first text that joins it as its core.
    if (!core && fp.signature) {
      core = fp.signature;
      await db
        .updateTable('campaigns')
        .set({ core_signature: signatureToBytes(fp.signature) })
        .where('id', '=', campaignId)
        .execute();
    }
  }

  await db
    .insertInto('campaign_messages')
    .values({ sha256: fp.sha256, campaign_id: campaignId, kind: fp.kind, via, similarity: sim, joined_at: meta.seenAt })
    .execute();
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
  if (!created) await refreshStanding(db, campaignId);

  // The campaign's links are its founder's and its text members': a member that joined through a
  // link lends the campaign none of its other values, or the campaign would chain link to link.
  await recordLinks(db, fp, campaignId, knownLinks, meta.seenAt, via === 'new' || via === 'lsh');
  // Only members inside the core become representatives: the campaign cannot drift by them.
  const inCore = fp.signature !== null && (core === null || similarity(fp.signature, core) >= CORE_FLOOR);
  if (fp.signature && inCore && (via !== 'lsh' || sim < NEW_REP_BELOW)) {
    const repId = newId();
    await db
      .insertInto('campaign_reps')
      .values({
        id: repId,
        campaign_id: campaignId,
        signature: signatureToBytes(fp.signature),
        created_at: meta.seenAt,
      })
      .execute();
    await db
      .insertInto('campaign_bands')
      .values(fp.bands.map((k) => ({ band_key: k, rep_id: repId, campaign_id: campaignId })))
      .execute();
  }
  return { campaignId, created, via, similarity: sim, merged };
}

/**
 * Claims the message's new link values for its campaign (when `claim`), and widens the spread of values that
 * already belong to another campaign: from {@link GENERIC_SPREAD} on they link nothing more.
 */
async function recordLinks(
  db: Db,
  fp: Fingerprint,
  campaignId: string,
  known: ReadonlyMap<string, string>,
  at: string,
  claim: boolean,
): Promise<void> {
  const fresh = claim ? fp.links.filter((l) => !known.has(linkKey(l))) : [];
  if (fresh.length > 0) {
    await db
      .insertInto('campaign_links')
      .values(fresh.map((l) => ({ kind: l.kind, value: l.value, campaign_id: campaignId, created_at: at, spread: 1 })))
      .onConflict((oc) => oc.columns(['kind', 'value']).doNothing())
      .execute();
  }
  const elsewhere = fp.links.filter((l) => {
    const owner = known.get(linkKey(l));
    return owner !== undefined && owner !== campaignId;
  });
  if (elsewhere.length > 0) {
    await db
      .updateTable('campaign_links')
      .set((eb) => ({ spread: eb('spread', '+', 1) }))
      .where((eb) =>
        eb.or(
          groupLinks(elsewhere).map(([kind, values]) => eb.and([eb('kind', '=', kind), eb('value', 'in', values)])),
        ),
      )
      .execute();
  }
}
