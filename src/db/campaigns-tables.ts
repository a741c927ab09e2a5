/** Tables owned by the classification and campaigns area (see migrations 0003_*). */
import type { Generated, Selectable } from 'kysely';

/** A campaign: messages judged to be one operation. A merged campaign redirects to its survivor. */
export interface CampaignsTable {
  id: string;
  /** Survivor's id when this campaign was merged into another (always one step: no chains). */
  merged_into: string | null;
  /** Most frequent category among its messages (an analyst's relabel counts as the message's category). */
  category: string | null;
  /**
   * The founding message's MinHash signature: the campaign itself, against which every later
   * member and every merge is judged (null when the founder's text was too short to compare).
   */
  core_signature: Buffer | null;
  /** The founding message's kind (`email`, `sms`): texts of different channels are not compared. */
  core_kind: string | null;
  /** Share of its messages in the majority category (1: all agree). */
  purity: Generated<number>;
  /** Share of its messages classified (or relabelled) legitimate. */
  legitimate_share: Generated<number>;
  first_seen_at: string;
  last_seen_at: string;
  message_count: number;
  report_count: number;
  created_at: string;
  updated_at: string;
}

/** Which campaign a message (by evidence hash) belongs to. */
export interface CampaignMessagesTable {
  sha256: string;
  campaign_id: string;
  kind: string;
  /** How it joined: `new`, `lsh`, `link:domain`, `link:phone`, … */
  via: string;
  /** Estimated Jaccard similarity to the representative it matched (1 for new). */
  similarity: number;
  joined_at: string;
}

/** Representative signatures of a campaign (one per distinct-enough variant). */
export interface CampaignRepsTable {
  id: string;
  campaign_id: string;
  /** MinHash signature, NUM_HASHES little-endian uint32. */
  signature: Buffer;
  created_at: string;
}

/** LSH band index: band key → representative. Looked up by key only (index, never scanned). */
export interface CampaignBandsTable {
  band_key: number;
  rep_id: string;
  campaign_id: string;
}

/** Strong links: one campaign per (kind, value). */
export interface CampaignLinksTable {
  kind: string;
  value: string;
  campaign_id: string;
  created_at: string;
  /**
   * Distinct campaigns messages carrying this value were placed in. From 2 on the value is shared
   * by unrelated messages (a mailing-list host, a brand's own site, a hosting platform) and no
   * longer links anything.
   */
  spread: Generated<number>;
}

/** The story: counts of each value of each kind (day, subject, sender, ip, domain, …). */
export interface CampaignFactsTable {
  campaign_id: string;
  kind: string;
  value: string;
  count: number;
  first_seen_at: string;
  last_seen_at: string;
}

/** The automatic verdict per message. */
export interface ClassificationsTable {
  sha256: string;
  category: string;
  confidence: number;
  /** JSON array of reasons (rule name, weight, category, detail). */
  reasons: string;
  model_version: string;
  classified_at: string;
}

/** An analyst's correction: who, when, what. Training data for the next `npm run train`. */
export interface RelabelsTable {
  id: string;
  report_id: string;
  message_sha256: string;
  category: string;
  previous_category: string | null;
  actor: string;
  at: string;
}

/** The one re-clustering run (`id` = `current`): where it is, so a crash resumes it. */
export interface CampaignReclusterTable {
  id: string;
  started_at: string;
  /** `clustering` (walking the reports) or `finishing` (telling cases and facts), then `done`. */
  phase: string;
  cursor_received_at: string | null;
  cursor_report_id: string | null;
  done: number;
  total: number;
  finished_at: string | null;
}

/** Each message's campaign before the run (its survivor), until the run finishes. */
export interface CampaignReclusterOldTable {
  sha256: string;
  campaign_id: string;
}

export interface CampaignTables {
  campaign_recluster: CampaignReclusterTable;
  campaign_recluster_old: CampaignReclusterOldTable;
  campaigns: CampaignsTable;
  campaign_messages: CampaignMessagesTable;
  campaign_reps: CampaignRepsTable;
  campaign_bands: CampaignBandsTable;
  campaign_links: CampaignLinksTable;
  campaign_facts: CampaignFactsTable;
  classifications: ClassificationsTable;
  relabels: RelabelsTable;
}

export type Campaign = Selectable<CampaignsTable>;
