/**
 * A campaign's readable label, shown wherever a campaign is (dashboard, campaign pages, cases, the
 * monthly report) instead of its ULID: the dominant brand its copies name (in the sender's display
 * name or the subject, `analysis/data/brands.ts`), else its most frequent subject, else its most
 * frequent sender domain, else its most frequent advertised domain. Built from the campaign's
 * story facts, which are recorded without the reporter's identity (`service.ts`); any e-mail
 * address left in a subject is masked too, since the label travels in exports. Stable: the same
 * facts give the same label (ties broken by value), whatever order they are read in.
 */
import type { Kysely } from 'kysely';
import { getDomain } from 'tldts';
import type { Database } from '../db/schema.ts';
import { BRANDS } from '../analysis/data/brands.ts';
import { REDACTED_ADDRESS } from '../evidence/redact-text.ts';

/** Longest label shown; longer subjects are cut on a word and end with an ellipsis. */
export const MAX_LABEL_CHARS = 80;
/** A brand must be named by at least this share of the copies' subjects or senders to be "dominant". */
export const DOMINANT_BRAND_SHARE = 0.5;
/** Facts of each kind read per campaign (the most frequent first). */
const FACTS_PER_KIND = 50;

export interface LabelFact {
  kind: string;
  value: string;
  count: number;
}

const WORD = /[\p{L}\p{N}]/u;
const ADDRESS = /[^\s<>()@"]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+/g;

function namesWord(haystack: string, word: string): boolean {
  let from = 0;
  for (;;) {
    const i = haystack.indexOf(word, from);
    if (i < 0) return false;
    const before = i === 0 ? '' : haystack[i - 1];
    const after = haystack[i + word.length] ?? '';
    if (!WORD.test(before) && !WORD.test(after)) return true;
    from = i + 1;
  }
}

/** The brands a text names (whole words, case-insensitive). */
function brandsIn(text: string): string[] {
  const t = text.toLowerCase().normalize('NFKC');
  return BRANDS.filter((b) => b.keywords.some((k) => namesWord(t, k))).map((b) => b.name);
}

/** Most frequent first, then by value, so equal counts always give the same answer. */
function byCount(a: LabelFact, b: LabelFact): number {
  return b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  if (one.length <= MAX_LABEL_CHARS) return one;
  const cut = one.slice(0, MAX_LABEL_CHARS - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > MAX_LABEL_CHARS / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** The domain of a sender fact (`Name <user@host>` or `user@host`), registrable when known. */
function senderDomain(value: string): string | null {
  const m = /@([A-Za-z0-9.-]+\.[A-Za-z]{2,63})>?\s*$/.exec(value.trim());
  if (!m) return null;
  const host = m[1].toLowerCase();
  return getDomain(host) ?? host;
}

/** The display name of a sender fact (`Name <user@host>`), or ''. */
function displayName(value: string): string {
  const m = /^(.*)<[^<>]*>\s*$/.exec(value);
  return m ? m[1].replace(/^"|"$/g, '').trim() : '';
}

/**
 * The label of a campaign from its facts (any order, any kinds; `subject`, `sender` and `domain`
 * are used). `fallback` (typically a short form of the id) when no fact can name it.
 */
export function campaignLabel(facts: readonly LabelFact[], fallback: string): string {
  const subjects = facts.filter((f) => f.kind === 'subject' && f.value.trim()).sort(byCount);
  const senders = facts.filter((f) => f.kind === 'sender' && f.value.trim()).sort(byCount);
  const brandCount = new Map<string, number>();
  let named = 0;
  for (const f of [...subjects, ...senders]) {
    named += f.count;
    const text = f.kind === 'sender' ? displayName(f.value) : f.value;
    for (const b of new Set(brandsIn(text))) brandCount.set(b, (brandCount.get(b) ?? 0) + f.count);
  }
  // Subjects and senders are each counted once per copy, so "named by half the copies" is half of both.
  const brand = [...brandCount.entries()]
    .filter(([, n]) => named > 0 && n >= (named / 2) * DOMINANT_BRAND_SHARE)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
  if (brand) return brand[0];
  const subject = subjects[0];
  if (subject) {
    const masked = clip(subject.value.replace(ADDRESS, REDACTED_ADDRESS));
    if (masked) return masked;
  }
  const domains = new Map<string, number>();
  for (const s of senders) {
    const d = senderDomain(s.value);
    if (d) domains.set(d, (domains.get(d) ?? 0) + s.count);
  }
  const domain = [...domains.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
  if (domain) return domain[0];
  const advertised = facts.filter((f) => f.kind === 'domain' && f.value.trim()).sort(byCount)[0];
  return advertised ? advertised.value : fallback;
}

/** `Campaign 01HX…7Q2` for a campaign nothing names. */
export function shortCampaignId(id: string): string {
  return id.length > 10 ? `${id.slice(0, 6)}…${id.slice(-3)}` : id;
}

/** Campaigns whose facts are read in one statement (3 parts each, under SQLite's 500 compound terms). */
const LABELS_PER_QUERY = 150;

/**
 * Labels of several campaigns, by id (ids of merged campaigns follow their redirect to the
 * surviving one's facts). Reads at most {@link FACTS_PER_KIND} facts of each kind per campaign, all
 * campaigns of a page in one statement (a `UNION ALL` of one index range per campaign and kind),
 * not three queries per campaign: the report list named up to 50 campaigns, 150 queries.
 */
export async function campaignLabels(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const unique = [...new Set(ids)];
  if (unique.length === 0) return out;
  const redirects = await db.selectFrom('campaigns').select(['id', 'merged_into']).where('id', 'in', unique).execute();
  const rootOf = new Map(redirects.map((r) => [r.id, r.merged_into ?? r.id]));
  const roots = [...new Set(unique.map((id) => rootOf.get(id) ?? id))];
  const facts = new Map<string, LabelFact[]>(roots.map((r) => [r, []]));
  for (let i = 0; i < roots.length; i += LABELS_PER_QUERY) {
    const rows = await labelFactsQuery(db, roots.slice(i, i + LABELS_PER_QUERY)).execute();
    for (const r of rows) facts.get(r.campaign_id)?.push({ kind: r.kind, value: r.value, count: Number(r.count) });
  }
  for (const id of unique) {
    const root = rootOf.get(id) ?? id;
    out.set(id, campaignLabel(facts.get(root) ?? [], `${shortCampaignId(root)}`));
  }
  return out;
}

/**
 * The statement that reads the label facts of up to {@link LABELS_PER_QUERY} campaigns: per campaign
 * and kind its {@link FACTS_PER_KIND} most frequent values, ties by value; each part is one range of
 * `campaign_facts_ranked_idx` read from its start (no sort, whatever the campaign's size).
 */
export function labelFactsQuery(db: Kysely<Database>, roots: readonly string[]) {
  const parts = roots.flatMap((root) =>
    (['subject', 'sender', 'domain'] as const).map((kind) =>
      db
        .selectFrom((eb) =>
          eb
            .selectFrom('campaign_facts')
            .select(['campaign_id', 'kind', 'value', 'count'])
            .where('campaign_id', '=', root)
            .where('kind', '=', kind)
            .orderBy('count', 'desc')
            .orderBy('value')
            .limit(FACTS_PER_KIND)
            .as('f'),
        )
        .selectAll(),
    ),
  );
  const [first, ...rest] = parts;
  return rest.reduce((q, part) => q.unionAll(part), first);
}
