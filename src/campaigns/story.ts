/**
 * A campaign's story for analysts and authorities: first and last seen, reports by day, its
 * categories, subjects, sender identities, origin IPs / ASNs / countries, advertised domains,
 * phones and wallets — from the per-campaign fact counts kept at ingest (no scan of messages).
 * Asking for a merged campaign's id answers with the survivor and says so.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { FactKind } from './fingerprint.ts';
import type { Principal } from '../core/roles.ts';
import { maySeeReporterIdentity } from '../core/policy.ts';
import { REDACTED_TEXT } from '../evidence/redact.ts';

/** Most values listed per kind (the counts stay exact). */
export const STORY_TOP = 50;

export interface CountedValue {
  value: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
}

export interface CampaignStory {
  id: string;
  /** Set when the id asked for was merged into `id`. */
  redirectedFrom: string | null;
  /** Its members' majority category (an analyst's relabel counts as the message's category). */
  category: string | null;
  /**
   * Share of its messages in the majority category (1: all agree); below the policy's minimum, nothing is sent
   * automatically.
   */
  purity: number;
  /** Share of its messages classified legitimate. */
  legitimateShare: number;
  firstSeen: string;
  lastSeen: string;
  messageCount: number;
  reportCount: number;
  reportsByDay: { day: string; count: number }[];
  kinds: CountedValue[];
  categories: CountedValue[];
  subjects: CountedValue[];
  senders: CountedValue[];
  originIps: CountedValue[];
  asns: CountedValue[];
  countries: CountedValue[];
  domains: CountedValue[];
  phones: CountedValue[];
  wallets: CountedValue[];
}

/** The campaign row an id stands for, following a merge redirect. */
export async function resolveCampaign(db: Kysely<Database>, id: string) {
  const row = await db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return null;
  if (!row.merged_into) return { row, redirectedFrom: null };
  const target = await db.selectFrom('campaigns').selectAll().where('id', '=', row.merged_into).executeTakeFirst();
  return target ? { row: target, redirectedFrom: id } : null;
}

/** The story of a campaign, or null when the id is unknown. */
export async function getCampaignStory(db: Kysely<Database>, id: string): Promise<CampaignStory | null> {
  const resolved = await resolveCampaign(db, id);
  if (!resolved) return null;
  const { row } = resolved;
  const facts = await db
    .selectFrom('campaign_facts')
    .select(['kind', 'value', 'count', 'first_seen_at', 'last_seen_at'])
    .where('campaign_id', '=', row.id)
    .orderBy('kind')
    .orderBy('count', 'desc')
    .orderBy('value')
    .execute();
  const by = (kind: FactKind, limit = STORY_TOP): CountedValue[] =>
    facts
      .filter((f) => f.kind === kind)
      .slice(0, limit)
      .map((f) => ({ value: f.value, count: Number(f.count), firstSeen: f.first_seen_at, lastSeen: f.last_seen_at }));
  return {
    id: row.id,
    redirectedFrom: resolved.redirectedFrom,
    category: row.category,
    purity: Number(row.purity),
    legitimateShare: Number(row.legitimate_share),
    firstSeen: row.first_seen_at,
    lastSeen: row.last_seen_at,
    messageCount: Number(row.message_count),
    reportCount: Number(row.report_count),
    reportsByDay: by('day', 10_000)
      .map((d) => ({ day: d.value, count: d.count }))
      .sort((a, b) => (a.day < b.day ? -1 : 1)),
    kinds: by('kind'),
    categories: by('category'),
    subjects: by('subject'),
    senders: by('sender'),
    originIps: by('ip'),
    asns: by('asn'),
    countries: by('country'),
    domains: by('domain'),
    phones: by('phone'),
    wallets: by('wallet'),
  };
}

/** Any e-mail address: in a campaign's subjects it is a recipient's, never the campaign's. */
const ADDRESS_RE = /[^\s<>"'(),;:]+@[^\s<>"'(),;:]+\.[a-z]{2,}/gi;

/**
 * The story as a caller may see it. Staff see it whole; authorities see it without any address
 * in subjects. Facts are recorded without the reporter's identity (service.ts), this masks what
 * older facts and other recipients may still carry.
 */
export function storyFor(principal: Principal, story: CampaignStory): CampaignStory {
  if (maySeeReporterIdentity(principal)) return story;
  return {
    ...story,
    subjects: story.subjects.map((s) => ({ ...s, value: s.value.replace(ADDRESS_RE, REDACTED_TEXT) })),
  };
}
