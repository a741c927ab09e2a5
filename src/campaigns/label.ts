/**
 * A campaign's readable name for people (issue 18, "human names everywhere"): the brand its
 * messages impersonate when the story records one, else its most frequent subject, else the
 * domain of its most frequent sender — never a bare ULID when anything better is known.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

/** Longest label shown; longer subjects are cut with an ellipsis. */
export const MAX_LABEL_CHARS = 80;

export interface LabelFact {
  kind: string;
  value: string;
  count: number;
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > MAX_LABEL_CHARS ? `${one.slice(0, MAX_LABEL_CHARS - 1)}…` : one;
}

/** The domain of a story's sender value (`Name <a@b.example>` or `a@b.example`). */
function senderDomain(v: string): string | null {
  const m = /@([^\s>@]+)>?\s*$/.exec(v);
  return m ? m[1].toLowerCase() : null;
}

/** The label from a campaign's story facts (pure; most frequent value of each kind wins). */
export function labelFromFacts(facts: readonly LabelFact[]): string | null {
  const best = (kind: string) =>
    facts
      .filter((f) => f.kind === kind && f.value.trim() !== '')
      .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))[0];
  const brand = best('brand');
  if (brand) return clip(brand.value);
  const subject = best('subject');
  if (subject) return clip(subject.value);
  const sender = best('sender');
  const domain = sender ? senderDomain(sender.value) : null;
  return domain ? clip(domain) : null;
}

/** Readable labels of campaigns by id (merged ids answer with their survivor's story); absent when unknown. */
export async function campaignLabels(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const wanted = [...new Set(ids)];
  for (let i = 0; i < wanted.length; i += 500) {
    const chunk = wanted.slice(i, i + 500);
    const rows = await db.selectFrom('campaigns').select(['id', 'merged_into']).where('id', 'in', chunk).execute();
    const rootOf = new Map(rows.map((r) => [r.id, r.merged_into ?? r.id]));
    const roots = [...new Set(rootOf.values())];
    if (roots.length === 0) continue;
    const facts = await db
      .selectFrom('campaign_facts')
      .select(['campaign_id', 'kind', 'value', 'count'])
      .where('campaign_id', 'in', roots)
      .where('kind', 'in', ['brand', 'subject', 'sender'])
      .execute();
    const byRoot = new Map<string, LabelFact[]>();
    for (const f of facts)
      byRoot.set(f.campaign_id, [
        ...(byRoot.get(f.campaign_id) ?? []),
        { kind: f.kind, value: f.value, count: Number(f.count) },
      ]);
    for (const [id, root] of rootOf) {
      const label = labelFromFacts(byRoot.get(root) ?? []);
      if (label) out.set(id, label);
    }
  }
  return out;
}

/** One campaign's readable label, or null when its story names nothing. */
export async function campaignLabel(db: Kysely<Database>, id: string): Promise<string | null> {
  return (await campaignLabels(db, [id])).get(id) ?? null;
}
