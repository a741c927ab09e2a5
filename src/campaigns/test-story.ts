/**
 * Test support: what a campaign's story should say of its members' origins. Each member message
 * counts once towards its campaign's `ip`, `asn` and `country` values (`storyFactsOf`, at its
 * placement); after any re-analysis the story must still be what its members' latest analyses say.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { getLatestAnalyses } from '../analysis/repository.ts';
import { storyFactsOf } from './fingerprint.ts';

const ORIGIN_KINDS = new Set(['ip', 'asn', 'country']);

/** Differences between the stored origin facts and the members' latest analyses ('' when none). */
export async function originStoryDrift(db: Kysely<Database>): Promise<string[]> {
  const members = await db
    .selectFrom('campaign_messages as m')
    .innerJoin('campaigns as c', 'c.id', 'm.campaign_id')
    .select(['m.sha256', 'c.id', 'c.merged_into'])
    .execute();
  const analyses = await getLatestAnalyses(
    db,
    members.map((m) => m.sha256),
  );
  const want = new Map<string, number>();
  for (const m of members) {
    const a = analyses.get(m.sha256);
    if (!a) continue;
    for (const f of storyFactsOf(a)) {
      if (!ORIGIN_KINDS.has(f.kind)) continue;
      const k = `${m.merged_into ?? m.id} ${f.kind} ${f.value}`;
      want.set(k, (want.get(k) ?? 0) + 1);
    }
  }
  const rows = await db
    .selectFrom('campaign_facts')
    .select(['campaign_id', 'kind', 'value', 'count'])
    .where('kind', 'in', [...ORIGIN_KINDS])
    .execute();
  const have = new Map(rows.map((r) => [`${r.campaign_id} ${r.kind} ${r.value}`, Number(r.count)]));
  const out: string[] = [];
  for (const k of new Set([...want.keys(), ...have.keys()]).values()) {
    const w = want.get(k) ?? 0;
    const h = have.get(k) ?? 0;
    if (w !== h) out.push(`${k}: stored ${h}, members ${w}`);
  }
  return out.sort();
}
