/**
 * Judging one value for the lists, from the actions area's per-report facts (trace-back origin,
 * botnet signals, advertised domains, categories, campaigns). Only live reports count (never a
 * historical import), only since the value was last delisted, and only reports of campaigns the
 * gates pass (`actions/gates.ts`): a value that would be listed on reports the gates hold waits as
 * `held` for an analyst, with the gates' reasons. A verdict explains itself: the reports (a
 * sample), the campaigns, the signals and the reasons are stored with the listing.
 */
import { isReporterAddress } from '../../actions/address-refusals.ts';
import type { Kysely } from 'kysely';
import { getDomain } from 'tldts';
import type { Database } from '../../db/schema.ts';
import type { ReportFactsRow } from '../../db/actions-tables.ts';
import type { ActionPolicy } from '../../actions/action-policy.ts';
import { RETURN_CODES, type ListName } from '../../actions/listing-policy.ts';
import { campaignGateReasons, campaignStandings } from '../../actions/gates.ts';
import { BOT_SIGNALS, jsonList } from '../../actions/report-facts.ts';
import { MANY_CAMPAIGNS } from '../../actions/isp/isp-digests.ts';
import { identitiesOfReports } from '../../actions/redaction.ts';
import { domainExclusion, ipExclusion, type Exclusions } from './exclusions.ts';
import { parseEvidence } from './listing-evidence.ts';
import {
  ACCESS_NETWORK_SIGNAL,
  NETWORK_KINDS,
  originNetwork,
  relayReason as relayOf,
  signalFacts,
  type OriginNetwork,
} from '../../analysis/origin-network.ts';

/** Report ids kept with a listing (the latest ones): enough to explain it, bounded. */
export const MAX_EVIDENCE_REPORTS = 50;
export const MAX_EVIDENCE_CAMPAIGNS = 20;
/** The relay rule is shared with the ISP alerts (`src/analysis/origin-network.ts`). */
export { RELAY_MIN_CAMPAIGNS } from '../../analysis/origin-network.ts';
const DAY_MS = 86_400_000;

/** What a listing carries besides its value. */
export interface Verdict {
  kind: 'ip' | 'domain';
  value: string;
  /** `listed`, `held` by the gates, or `none` (not listable now: the reasons say why). */
  outcome: 'listed' | 'held' | 'none';
  list: ListName;
  returnCode: string | null;
  category: string | null;
  reportCount: number;
  campaignCount: number;
  signals: string[];
  reportIds: string[];
  campaignIds: string[];
  reasons: string[];
  /**
   * True when the policy forbids the value now (never-list, legitimate mail…): it leaves the lists
   * at once. Otherwise a listed value without enough recent reports stays until it expires.
   */
  excluded: boolean;
  firstSeen: string | null;
  lastSeen: string | null;
  expiresAt: string | null;
}

/** The row facts a verdict is judged on. */
type Fact = Pick<
  ReportFactsRow,
  | 'report_id'
  | 'message_sha256'
  | 'campaign_id'
  | 'category'
  | 'message_category'
  | 'received_at'
  | 'origin_rdns'
  | 'origin_asn'
  | 'origin_as_name'
  | 'bot_signals'
  | 'authenticated'
  | 'origin_sent_at'
  | 'arrived_at'
>;

const FACT_COLUMNS = [
  'f.report_id',
  'f.message_sha256',
  'f.campaign_id',
  'f.category',
  'f.message_category',
  'f.received_at',
  'f.origin_rdns',
  'f.origin_asn',
  'f.origin_as_name',
  'f.bot_signals',
  'f.authenticated',
  'f.origin_sent_at',
  'f.arrived_at',
] as const;

function isoMinusDays(now: Date, days: number): string {
  return new Date(now.getTime() - days * DAY_MS).toISOString();
}

function later(a: string, b: string | null): string {
  return b !== null && b > a ? b : a;
}

/** When the origin sent it (what dates an infected machine), else when it arrived or was reported. */
function sentAt(f: Fact): string {
  return f.origin_sent_at ?? f.arrived_at ?? f.received_at;
}

function isClean(f: Fact): boolean {
  return f.message_category === 'legitimate' || Number(f.authenticated) === 1;
}

function campaignKey(f: Fact): string {
  return f.campaign_id ?? `msg:${f.message_sha256}`;
}

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10} %`;
}

/** Splits spam facts into those of sound campaigns and those the gates hold, with the gates' reasons. */
async function gate(
  db: Kysely<Database>,
  policy: ActionPolicy,
  facts: Fact[],
): Promise<{ sound: Fact[]; held: Fact[]; reasons: string[] }> {
  const standings = await campaignStandings(
    db,
    facts.map((f) => f.campaign_id).filter((id): id is string => id !== null),
  );
  const sound: Fact[] = [];
  const held: Fact[] = [];
  const reasons = new Set<string>();
  for (const f of facts) {
    const s = f.campaign_id ? standings.get(f.campaign_id) : undefined;
    const r = s ? campaignGateReasons(s, policy) : [];
    if (r.length === 0) sound.push(f);
    else {
      held.push(f);
      for (const x of r) reasons.add(x);
    }
  }
  return { sound, held, reasons: [...reasons] };
}

function emptyVerdict(
  kind: Verdict['kind'],
  value: string,
  list: ListName,
  reasons: string[],
  excluded = false,
): Verdict {
  return {
    excluded,
    kind,
    value,
    outcome: 'none',
    list,
    returnCode: null,
    category: null,
    reportCount: 0,
    campaignCount: 0,
    signals: [],
    reportIds: [],
    campaignIds: [],
    reasons,
    firstSeen: null,
    lastSeen: null,
    expiresAt: null,
  };
}

/**
 * True when the value is listed or held and none of the reports its evidence names (the latest
 * {@link MAX_EVIDENCE_REPORTS}) still has facts naming it — as origin (`ip`), among the advertised
 * domains (`domain`): they were traced again and now say otherwise (`src/actions/refresh-facts.ts`),
 * or were erased. Reports that merely aged out of the window still name it.
 */
async function evidenceWithdrawn(db: Kysely<Database>, kind: 'ip' | 'domain', value: string): Promise<boolean> {
  const row = await db
    .selectFrom('feed_listings')
    .select(['state', 'evidence'])
    .where('kind', '=', kind)
    .where('value', '=', value)
    .executeTakeFirst();
  if (row === undefined || (row.state !== 'listed' && row.state !== 'held')) return false;
  const ids = parseEvidence(row.evidence).reportIds.slice(-MAX_EVIDENCE_REPORTS);
  if (ids.length === 0) return false;
  const facts = await db
    .selectFrom('action_report_facts')
    .select(['origin_ip', 'advertised_domains'])
    .where('report_id', 'in', ids)
    .execute();
  return !facts.some((f) => (kind === 'ip' ? f.origin_ip === value : jsonList(f.advertised_domains).includes(value)));
}

/**
 * True when `domain` is the domain of a reporter's own address: spam that links to its
 * recipient's own site (a personalised lure). Listing it would be wrong and would name the reporter.
 */
async function isReporterDomain(db: Kysely<Database>, domain: string, facts: Fact[]): Promise<boolean> {
  const identity = await identitiesOfReports(
    db,
    facts.map((f) => f.report_id),
  );
  return identity.addresses.some((a) => getDomain(a.slice(a.lastIndexOf('@') + 1).toLowerCase()) === domain);
}

/** Majority category of the facts (campaign category first, else the message's own). */
function majority(facts: Fact[]): string | null {
  const n = new Map<string, number>();
  for (const f of facts) {
    const c = f.category ?? f.message_category;
    if (c) n.set(c, (n.get(c) ?? 0) + 1);
  }
  return [...n.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? null;
}

function filled(
  base: Verdict,
  outcome: 'listed' | 'held',
  rows: Fact[],
  expiryDays: number,
  extra: Partial<Verdict>,
): Verdict {
  const sorted = [...rows].sort((a, b) => (a.received_at < b.received_at ? -1 : 1));
  const lastSeen = sorted[sorted.length - 1].received_at;
  const campaigns = [...new Set(sorted.map(campaignKey))];
  return {
    ...base,
    outcome,
    reportCount: sorted.length,
    campaignCount: campaigns.length,
    reportIds: sorted.slice(-MAX_EVIDENCE_REPORTS).map((r) => r.report_id),
    campaignIds: campaigns.filter((c) => !c.startsWith('msg:')).slice(-MAX_EVIDENCE_CAMPAIGNS),
    firstSeen: sorted[0].received_at,
    lastSeen,
    expiresAt: new Date(Date.parse(lastSeen) + expiryDays * DAY_MS).toISOString(),
    ...extra,
  };
}

/**
 * Botnet signals of the facts, with `many-campaigns` from {@link MANY_CAMPAIGNS} campaigns on and
 * `access-network` when the origin is on an access network its name alone does not show.
 */
function signalsOf(rows: Fact[], network: OriginNetwork): string[] {
  const s = new Set<string>();
  for (const r of rows) for (const x of jsonList(r.bot_signals)) s.add(x);
  if (new Set(rows.map(campaignKey)).size >= MANY_CAMPAIGNS) s.add(BOT_SIGNALS.MANY_CAMPAIGNS);
  if (network.kind === NETWORK_KINDS.ACCESS && !s.has(BOT_SIGNALS.DYNAMIC_RDNS)) s.add(ACCESS_NETWORK_SIGNAL);
  return [...s].sort();
}

/** The network of an origin, from the name and AS its facts recorded. */
function networkOf(ip: string, facts: Fact[]): OriginNetwork {
  const rdns = facts.find((f) => f.origin_rdns)?.origin_rdns ?? null;
  const asName = facts.find((f) => f.origin_as_name)?.origin_as_name ?? null;
  const dynamic = facts.some((f) => jsonList(f.bot_signals).includes(BOT_SIGNALS.DYNAMIC_RDNS));
  return originNetwork(ip, rdns, asName, dynamic);
}

/** Why an origin is a relay of many senders' mail (never listed), or null. */
function relayReason(network: OriginNetwork, all: Fact[]): string | null {
  const spam = all.filter((f) => !isClean(f));
  return relayOf(network, new Set(spam.map(campaignKey)).size, all.length - spam.length);
}

/**
 * The verdict on an origin IP: the infected-machines list when its recent spam shows enough botnet
 * signals, the spam-infrastructure list when it sent enough spam without them, else none.
 */
export async function judgeIp(
  db: Kysely<Database>,
  policy: ActionPolicy,
  ex: Exclusions,
  ip: string,
  now: Date,
  delistedAt: string | null,
): Promise<Verdict> {
  const L = policy.listing;
  const infectedSince = later(isoMinusDays(now, L.infected.windowDays), delistedAt);
  const infraSince = later(isoMinusDays(now, L.infrastructure.windowDays), delistedAt);
  const since = [infectedSince, infraSince].sort()[0];
  const all: Fact[] = await db
    .selectFrom('action_report_facts as f')
    .select(FACT_COLUMNS)
    .where('f.origin_ip', '=', ip)
    .where('f.historical', '=', 0)
    .where('f.received_at', '>=', since)
    .orderBy('f.received_at')
    .execute();
  const none = (reasons: string[], excluded = false) => emptyVerdict('ip', ip, 'infrastructure', reasons, excluded);
  const asn = all.find((f) => f.origin_asn !== null)?.origin_asn ?? null;
  const excluded = ipExclusion(
    ip,
    ex,
    all.find((f) => f.origin_rdns)?.origin_rdns ?? null,
    asn,
    all.find((f) => f.origin_as_name)?.origin_as_name ?? null,
  );
  if (excluded) return none([excluded], true);
  if (all.length === 0) {
    // Reports that aged out of the window leave a listing to expire when it said it would; when none
    // of the reports its listing stands on names the address any more (traced again after a
    // re-analysis, `src/actions/refresh-facts.ts`), the evidence is withdrawn: it leaves the lists now.
    if (await evidenceWithdrawn(db, 'ip', ip))
      return none(['none of the reports it was listed on names it any more'], true);
    return none(['no live report in the window']);
  }
  if (
    await isReporterAddress(
      db,
      ip,
      all.map((f) => f.report_id),
    )
  )
    return none(['the address a reporter reported from'], true);
  const clean = all.filter(isClean).length;
  if (clean / all.length > L.maxLegitimateShare)
    return none(
      [
        `${clean} of its ${all.length} reports are legitimate mail or sent with aligned SPF/DKIM \
(${pct(clean / all.length)}; policy allows ${pct(L.maxLegitimateShare)}): a mail server, not a spam source`,
      ],
      true,
    );
  const network = networkOf(ip, all);
  const relay = relayReason(network, all);
  if (relay) return none([relay], true);
  const spam = all.filter((f) => !isClean(f));
  const { sound, held, reasons: gateReasons } = await gate(db, policy, spam);

  const infectedRows = (rows: Fact[]) =>
    rows.filter((f) => f.received_at >= infectedSince && sentAt(f) >= isoMinusDays(now, L.infected.windowDays));
  const infraRows = (rows: Fact[]) => rows.filter((f) => f.received_at >= infraSince);
  // Only a subscriber's line is an infected machine; signals that say one fact count once.
  const qualifiesInfected = (rows: Fact[]) =>
    L.infected.enabled &&
    network.kind === NETWORK_KINDS.ACCESS &&
    rows.length >= L.infected.minReports &&
    new Set(rows.map(campaignKey)).size >= L.infected.minCampaigns &&
    signalFacts(signalsOf(rows, network)).length >= L.infected.minSignals;
  const qualifiesInfra = (rows: Fact[]) =>
    L.infrastructure.enabled &&
    rows.length >= L.infrastructure.minReports &&
    new Set(rows.map(campaignKey)).size >= L.infrastructure.minCampaigns;

  const base = none([]);
  const inf = infectedRows(sound);
  if (qualifiesInfected(inf)) {
    const signals = signalsOf(inf, network);
    const facts = signalFacts(signals);
    return filled({ ...base, list: 'infected' }, 'listed', inf, L.infected.expiryDays, {
      returnCode: RETURN_CODES.infected,
      category: majority(inf),
      signals,
      reasons: [
        `${inf.length} live report(s) of spam it sent in the last ${L.infected.windowDays} day(s), with botnet signals \
${signals.join(', ')} (${facts.length} distinct fact(s): ${facts.join('; ')})`,
        `an access network: ${network.reason}`,
      ],
    });
  }
  const infra = infraRows(sound);
  if (qualifiesInfra(infra)) {
    return filled({ ...base, list: 'infrastructure' }, 'listed', infra, L.infrastructure.expiryDays, {
      returnCode: RETURN_CODES.infrastructure,
      category: majority(infra),
      signals: signalsOf(infra, network),
      reasons: [
        `${infra.length} live report(s) of spam it sent in the last ${L.infrastructure.windowDays} day(s) \
(${new Set(infra.map(campaignKey)).size} campaign(s))`,
        network.kind === NETWORK_KINDS.ACCESS
          ? `an access network (${network.reason}), without the botnet signals of an infected machine`
          : `not a subscriber line, so not an infected machine: ${network.reason}`,
      ],
    });
  }
  const withHeld = [...sound, ...held];
  if (held.length > 0 && (qualifiesInfected(infectedRows(withHeld)) || qualifiesInfra(infraRows(withHeld)))) {
    const list: ListName = qualifiesInfected(infectedRows(withHeld)) ? 'infected' : 'infrastructure';
    const rows = list === 'infected' ? infectedRows(withHeld) : infraRows(withHeld);
    return filled({ ...base, list }, 'held', rows, L[list].expiryDays, {
      category: majority(rows),
      signals: signalsOf(rows, network),
      reasons: ['held for an analyst by the campaign gates', ...gateReasons],
    });
  }
  return none([`${sound.length} live report(s) of sound campaigns: below the thresholds`]);
}

/** The return code of a domain by its majority category. */
export function domainReturnCode(category: string | null): string {
  if (category === 'phishing') return RETURN_CODES['domain:phishing'];
  if (category === 'malware') return RETURN_CODES['domain:malware'];
  if (category === 'scam') return RETURN_CODES['domain:scam'];
  return RETURN_CODES['domain:spam'];
}

/** The verdict on an advertised registrable domain. */
export async function judgeDomain(
  db: Kysely<Database>,
  policy: ActionPolicy,
  ex: Exclusions,
  domain: string,
  now: Date,
  delistedAt: string | null,
): Promise<Verdict> {
  const L = policy.listing;
  const none = (reasons: string[], excluded = false) => emptyVerdict('domain', domain, 'domains', reasons, excluded);
  const excluded = domainExclusion(domain, ex);
  if (excluded) return none([excluded], true);
  if (!L.domains.enabled) return none(['the domain list is disabled'], true);
  const since = later(isoMinusDays(now, L.domains.windowDays), delistedAt);
  const indexed = await db
    .selectFrom('feed_domain_reports as d')
    .innerJoin('action_report_facts as f', 'f.report_id', 'd.report_id')
    .select([...FACT_COLUMNS, 'd.named'])
    .where('d.domain', '=', domain)
    .where('d.received_at', '>=', since)
    .where('f.historical', '=', 0)
    .orderBy('d.received_at')
    .execute();
  // The reports that advertise it, and the legitimate ones that only name it (`advertised.ts`): a
  // domain legitimate mail names is as legitimate as one it links to; spam that only names it (a
  // phish's list of real banks) says nothing about it either way.
  const all: Fact[] = indexed.filter((f) => Number(f.named) === 0 || isClean(f));
  if (all.length === 0) {
    if (await evidenceWithdrawn(db, 'domain', domain))
      return none(['none of the reports it was listed on advertises it any more'], true);
    return none(['no live report in the window']);
  }
  if (await isReporterDomain(db, domain, all)) return none(['the domain of a reporter’s own address'], true);
  const clean = all.filter(isClean).length;
  if (clean / all.length > L.maxLegitimateShare)
    return none(
      [
        `${clean} of its ${all.length} reports are legitimate mail or sent with aligned SPF/DKIM \
(${pct(clean / all.length)}; policy allows ${pct(L.maxLegitimateShare)})`,
      ],
      true,
    );
  const wanted = new Set<string>(L.domains.categories);
  const spam = all.filter((f) => !isClean(f) && wanted.has(f.category ?? f.message_category ?? 'other'));
  const { sound, held, reasons: gateReasons } = await gate(db, policy, spam);
  const qualifies = (rows: Fact[]) =>
    rows.length >= L.domains.minReports && new Set(rows.map(campaignKey)).size >= L.domains.minCampaigns;
  const base = none([]);
  if (qualifies(sound)) {
    const category = majority(sound);
    return filled(base, 'listed', sound, L.domains.expiryDays, {
      returnCode: domainReturnCode(category),
      category,
      reasons: [
        `advertised in ${sound.length} live report(s) of ${category ?? 'unclassified'} spam in the last \
${L.domains.windowDays} day(s)`,
      ],
    });
  }
  const withHeld = [...sound, ...held];
  if (held.length > 0 && qualifies(withHeld)) {
    return filled(base, 'held', withHeld, L.domains.expiryDays, {
      category: majority(withHeld),
      reasons: ['held for an analyst by the campaign gates', ...gateReasons],
    });
  }
  return none([`${sound.length} live report(s) of sound campaigns: below the thresholds`]);
}
