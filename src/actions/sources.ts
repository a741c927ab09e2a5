/**
 * Where the actions area reads what earlier stages produced: a message's analysis (the analysis
 * area's `analyses` table, latest version) and a campaign's category. Analysis is a pure function
 * of the evidence (DESIGN.md), so when no stored record exists (the message was reported before
 * the analysis area ran, or its job is still queued) it is re-run on the stored bytes with offline
 * ports: parse, indicators and compliance are then complete, the network sections empty.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Config } from '../core/config.ts';
import type { Analysis } from '../analysis/analysis-schema.ts';
import { analyse } from '../analysis/analyse.ts';
import { offlinePorts } from '../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../analysis/settings.ts';
import { getMessageRaw } from '../evidence/store.ts';
import { latestAnalyses } from '../analysis/recent-analyses.ts';

/** A function that returns the stored analysis of a message, or null. */
export type StoredAnalysisLoader = (db: Kysely<Database>, sha256: string) => Promise<Analysis | null>;

/** The latest stored analysis; one this process has just stored is taken as it is (recent-analyses.ts). */
const latestStored: StoredAnalysisLoader = async (db, sha256) =>
  (await latestAnalyses(db, [sha256])).get(sha256) ?? null;

let storedLoader: StoredAnalysisLoader = latestStored;
let replaced = false;

/** Replaces where stored analyses are read from (tests supply analyses made with their own ports). */
export function useStoredAnalyses(loader: StoredAnalysisLoader | null): void {
  storedLoader = loader ?? latestStored;
  replaced = loader !== null;
}

/** The analysis of one message: stored, else re-computed from the evidence; null without evidence. */
export async function loadAnalysis(db: Kysely<Database>, sha256: string, config?: Config): Promise<Analysis | null> {
  const stored = await storedLoader(db, sha256);
  if (stored) return stored;
  const raw = await getMessageRaw(db, sha256);
  if (!raw) return null;
  const settings = defaultAnalysisSettings(
    config
      ? { region: config.region, timeoutMs: config.analysisTimeoutMs, maxDecodedBytes: config.analysisMaxDecodedBytes }
      : {},
  );
  return analyse(raw, { ports: offlinePorts(), settings });
}

export async function loadAnalyses(
  db: Kysely<Database>,
  shas: string[],
  config?: Config,
): Promise<Map<string, Analysis | null>> {
  const out = new Map<string, Analysis | null>();
  // The stored ones of the batch in one look-up, unless a test replaced the loader.
  const stored = replaced ? new Map<string, Analysis>() : await latestAnalyses(db, shas);
  for (const sha of shas) out.set(sha, stored.get(sha) ?? (await loadAnalysis(db, sha, config)));
  return out;
}

/**
 * The category of each of these campaigns (the campaigns area keeps it up to date), following a
 * merge one step to the survivor's; absent: no such campaign. Two statements per 500 campaigns.
 */
export async function campaignCategories(
  db: Kysely<Database>,
  campaignIds: readonly string[],
): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  const wanted = [...new Set(campaignIds)];
  for (let i = 0; i < wanted.length; i += 500) {
    const rows = await db
      .selectFrom('campaigns')
      .select(['id', 'category', 'merged_into'])
      .where('id', 'in', wanted.slice(i, i + 500))
      .execute();
    const survivors = [...new Set(rows.flatMap((r) => (r.merged_into ? [r.merged_into] : [])))];
    const survivorCategory = new Map<string, string | null>();
    if (survivors.length > 0)
      for (const r of await db
        .selectFrom('campaigns')
        .select(['id', 'category'])
        .where('id', 'in', survivors)
        .execute())
        survivorCategory.set(r.id, r.category);
    for (const r of rows)
      out.set(r.id, r.merged_into ? (survivorCategory.get(r.merged_into) ?? r.category) : r.category);
  }
  return out;
}

/** At most this many merged-away ids are followed for one campaign (merges are rare and small). */
const MAX_CAMPAIGN_ALIASES = 5000;

/**
 * A campaign as the actions area must see it after merges: its surviving id (`root`) and every id
 * that now redirects to it (the campaigns area keeps redirects one step deep), root first. Cases
 * and counts keyed on a merged-away id belong to the survivor.
 */
export async function campaignFamily(
  db: Kysely<Database>,
  campaignId: string,
): Promise<{ root: string; ids: string[] }> {
  const row = await db.selectFrom('campaigns').select('merged_into').where('id', '=', campaignId).executeTakeFirst();
  const root = row?.merged_into ?? campaignId;
  const merged = await db
    .selectFrom('campaigns')
    .select('id')
    .where('merged_into', '=', root)
    .orderBy('id')
    .limit(MAX_CAMPAIGN_ALIASES)
    .execute();
  return { root, ids: [root, ...merged.map((r) => r.id).filter((id) => id !== root)] };
}
