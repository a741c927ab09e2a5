/**
 * What the intel feeds may publish, read from what the campaigns and actions areas stored: the
 * abusive campaigns the gates pass (`src/actions/gates.ts`, the same rules as referrals) with at
 * least one live report, and per campaign its origin addresses, advertised domains and URLs,
 * authenticated sender addresses, phone numbers and wallets — each value passed through the
 * exclusions and through the redaction of every identity of the campaign's reporters (a value the
 * redaction would change is the reporter's own and is dropped, not published redacted).
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { ActionPolicy } from '../../actions/action-policy.ts';
import { STANDING_COLUMNS, campaignGateReasons } from '../../actions/gates.ts';
import { identitiesByReport } from '../../actions/redaction.ts';
import { mergeIdentities, Redactor, type ReporterIdentity } from '../../evidence/redact.ts';
import { ABUSIVE_CATEGORIES } from '../../campaigns/campaign-store.ts';
import type { Exclusions } from './exclusions.ts';
import type { AddressNetwork } from '../../actions/network-exclusions.ts';
import { BOT_SIGNALS } from '../../actions/report-facts.ts';
import { originNetwork, relayReason } from '../../analysis/origin-network.ts';
import { siteOfUrl, userDirectorySites } from '../../analysis/indicators/urls.ts';
import type { IndicatorKind } from './collections.ts';

/** Campaigns read per query (bounded IN lists). */
const CHUNK = 200;
/**
 * A URL with a path or query is published only when this many distinct messages carried it, reported by this many
 * distinct reporters: a URL may hold a per-recipient token (a newsletter's redirect link carries the subscriber's
 * id, encoded), the same in every message to that recipient, and publishing it would tell the spammer which
 * recipient reported. Its host is published either way.
 */
export const MIN_MESSAGES_FOR_FULL_URL = 2;
/** Longest value published (longer URLs are tracking noise). */
const MAX_VALUE_CHARS = 2048;

export interface SourceValue {
  kind: IndicatorKind;
  value: string;
  /** Distinct messages of the campaign that carried it. */
  messages: number;
  /**
   * URLs: distinct reporters whose reports of the campaign carried it — an account, an API token or a reporting
   * address each; every anonymous report together counts as one.
   */
  reporters?: number;
  firstSeen: string;
  lastSeen: string;
}

export interface SourceCampaign {
  id: string;
  category: string;
  firstSeen: string;
  lastSeen: string;
  reports: number;
  messages: number;
  values: SourceValue[];
}

export interface SourceSnapshot {
  campaigns: SourceCampaign[];
  /** Abusive campaigns the gates hold, with the reasons. */
  held: { campaignId: string; reasons: string[] }[];
  /** Values refused, by reason (counts). */
  refused: Map<string, number>;
}

const FACT_KINDS: Record<string, IndicatorKind> = { ip: 'ip', domain: 'domain', phone: 'phone', wallet: 'wallet' };

function chunks<T>(list: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += n) out.push(list.slice(i, i + n));
  return out;
}

/** Reads every publishable campaign with its values. */
export async function readSources(
  db: Kysely<Database>,
  policy: ActionPolicy,
  exclusions: Exclusions,
): Promise<SourceSnapshot> {
  const rows = await db
    .selectFrom('campaigns')
    .select(STANDING_COLUMNS)
    .where('merged_into', 'is', null)
    .where('category', 'in', [...ABUSIVE_CATEGORIES])
    .orderBy('id')
    .execute();
  const held: SourceSnapshot['held'] = [];
  const passing = [];
  for (const r of rows) {
    const reasons = campaignGateReasons(
      {
        root: r.id,
        category: r.category,
        purity: Number(r.purity),
        legitimateShare: Number(r.legitimate_share),
        messages: Number(r.message_count),
      },
      policy,
    );
    if (reasons.length > 0) held.push({ campaignId: r.id, reasons });
    else passing.push(r);
  }
  const refused = new Map<string, number>();
  const refuse = (reason: string) => refused.set(reason, (refused.get(reason) ?? 0) + 1);
  const campaigns: SourceCampaign[] = [];
  type Part = { rows: typeof passing; values: Map<string, SourceValue[]>; reporters: Map<string, ReporterIdentity> };
  const parts: Part[] = [];
  for (const part of chunks(passing, CHUNK)) {
    const ids = part.map((r) => r.id);
    const live = await liveCampaigns(db, ids);
    const liveRows = part.filter((r) => live.has(r.id));
    for (const r of part) if (!live.has(r.id)) held.push({ campaignId: r.id, reasons: ['only historical reports'] });
    if (liveRows.length === 0) continue;
    const liveIds = liveRows.map((r) => r.id);
    parts.push({
      rows: liveRows,
      values: await rawValues(db, liveIds),
      reporters: await campaignReporters(db, liveIds),
    });
  }
  // What the reports say of each origin address and domain, read once per build for all campaigns
  // (a value recurs in many), each judged in the window that ends at its last sighting in any of them.
  const all = parts.flatMap((p) => [...p.values.values()].flat());
  const networks = new Map<string, OriginFacts | null>();
  const advertisers = new Map<string, Advertisers | null>();
  await originFacts(
    db,
    policy.listing.infrastructure.windowDays,
    all.filter((v) => v.kind === 'ip'),
    networks,
  );
  await domainAdvertisers(
    db,
    policy.listing.domains.windowDays,
    all.filter((v) => v.kind === 'domain'),
    advertisers,
  );
  const carriers = new Map<string, Advertisers | null>();
  await urlCarriers(
    db,
    policy.listing.domains.windowDays,
    all.filter((v) => v.kind === 'url'),
    carriers,
  );
  for (const { rows, values, reporters } of parts) {
    for (const r of rows) {
      const raw = values.get(r.id) ?? [];
      const identity = reporters.get(r.id);
      // Compiling a redactor costs far more than checking a value: only for campaigns whose
      // reporters left an identity (a web report by an anonymous visitor leaves none).
      const redactor = raw.length > 0 && identity && !isEmptyIdentity(identity) ? new Redactor(identity) : null;
      const kept: SourceValue[] = [];
      // The sites the campaign's messages advertise (its story's domains, `advertised.ts`): a URL of
      // any other site is a resource the mail client fetches or an address a message only names.
      const sites = new Set(raw.flatMap((v) => (v.kind === 'domain' ? [v.value.toLowerCase()] : [])));
      const sharedServers = userDirectoryOnly(raw);
      for (const v of raw) {
        const why =
          (v.kind === 'domain' && sharedServers.has(v.value) ? USER_DIRECTORY_REFUSAL : null) ??
          refusal(v, exclusions, redactor, { networks, advertisers, carriers }, policy.listing.maxLegitimateShare) ??
          (v.kind === 'url' && !sites.has(siteOfUrl(v.value) ?? '') ? NOT_ADVERTISED_REFUSAL : null);
        if (why) refuse(why);
        else kept.push(v);
      }
      campaigns.push({
        id: r.id,
        category: r.category ?? 'other',
        firstSeen: r.first_seen_at,
        lastSeen: r.last_seen_at,
        reports: Number(r.report_count),
        messages: Number(r.message_count),
        values: kept,
      });
    }
  }
  return { campaigns, held, refused };
}

function refusal(
  v: SourceValue,
  ex: Exclusions,
  redactor: Redactor | null,
  facts: {
    networks: ReadonlyMap<string, OriginFacts | null>;
    advertisers: ReadonlyMap<string, Advertisers | null>;
    carriers: ReadonlyMap<string, Advertisers | null>;
  },
  maxLegitimateShare: number,
): string | null {
  if (v.value.length === 0 || v.value.length > MAX_VALUE_CHARS) return 'empty or too long';
  const legitimate = (ads: Advertisers | null | undefined) =>
    ads !== null && ads !== undefined && ads.reports > 0 && ads.clean / ads.reports > maxLegitimateShare;
  const legitimateAdvertiser = (domain: string): string | null =>
    legitimate(facts.advertisers.get(domain)) ? ADVERTISED_IN_LEGITIMATE : null;
  if (redactor && redactor.string(v.value) !== v.value) return 'carries a reporter’s identity';
  switch (v.kind) {
    case 'ip': {
      const origin = facts.networks.get(v.value) ?? null;
      const byAddress = ex.ip(v.value, origin ?? undefined);
      if (byAddress) return byAddress;
      if (origin === null) return NO_REPORT_REFUSAL;
      if (origin.relay) return RELAY_REFUSAL;
      return origin.recent > 0 && origin.clean / origin.recent > maxLegitimateShare ? LEGITIMATE_REFUSAL : null;
    }
    case 'domain':
      return ex.host(v.value) ?? legitimateAdvertiser(v.value);
    case 'url': {
      // A bare URL (no path, query nor fragment) stands for its whole site: refused as its domain would be
      // when legitimate mail advertises that site too. A page's URL is not (a phishing kit on a hacked site).
      const why = urlRefusal(v, ex);
      if (why) return why;
      // The very URL in legitimate mail too: a list's footer (`…/mailman/listinfo/ilug`) that its spam carries.
      if (legitimate(facts.carriers.get(v.value))) return CARRIED_BY_LEGITIMATE;
      const site = /^https?:\/\/[^/?#]+\/?$/i.test(v.value) ? siteOfUrl(v.value) : null;
      return site === null ? null : legitimateAdvertiser(site);
    }
    case 'email':
      return ex.email(v.value);
    case 'phone':
      return /^\+[1-9]\d{5,14}$/.test(v.value) ? null : 'not an E.164 number';
    case 'wallet':
      return null;
  }
}

function urlRefusal(v: SourceValue, ex: Exclusions): string | null {
  let u: URL;
  try {
    u = new URL(v.value);
  } catch {
    return 'not a URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'not a web URL';
  if (u.username || u.password) return 'URL with credentials';
  const bare = (u.pathname === '/' || u.pathname === '') && !u.search && !u.hash;
  if (!bare && v.messages < MIN_MESSAGES_FOR_FULL_URL) return 'URL seen in a single message (may be per-recipient)';
  if (!bare && (v.reporters ?? 0) < MIN_MESSAGES_FOR_FULL_URL)
    return 'URL reported by a single reporter (may be per-recipient)';
  return ex.host(u.hostname, { fullUrl: !bare });
}

/**
 * The domains under which every URL of a campaign is a page in one user's directory on a shared web
 * server (`http://home.attbi.com/~jo/…`, `userDirectoryOf`): the server's domain (an ISP's home pages, a
 * university's) is its operator's, not the sender's. The URLs themselves stay publishable.
 */
export function userDirectoryOnly(raw: readonly SourceValue[]): Set<string> {
  return userDirectorySites(raw.flatMap((v) => (v.kind === 'url' ? [{ url: v.value, site: siteOfUrl(v.value) }] : [])));
}

/** The refusal of a shared web server's domain (see {@link userDirectoryOnly}). */
const USER_DIRECTORY_REFUSAL =
  'a shared web server: the campaign’s pages are users’ directories on it (/~name), published as their URLs';

/** The refusal of a URL of a site the campaign's messages do not advertise. */
const NOT_ADVERTISED_REFUSAL =
  'a URL of a site its messages do not advertise (a resource the mail client fetches, or an address only named)';

/** The refusal of a relay of many senders' mail (one reason for all: the build summary counts by reason). */
const RELAY_REFUSAL =
  'relay of many senders’ mail (forwarder, list server or smarthost): spam of many unrelated campaigns';

/**
 * The refusal of an origin no report names any more: its reports were traced again (a reporter's
 * declared forwarder, `spamdesk reanalyze`) or erased, while the campaign keeps the value it stored.
 */
const NO_REPORT_REFUSAL = 'no report names it as an origin any more (traced again or erased)';

/**
 * The refusal of a mail server whose recent reports are more legitimate or authenticated mail than the
 * lists allow (`listing.maxLegitimateShare`): a real sender reported by mistake, as the lists judge it.
 */
const LEGITIMATE_REFUSAL = 'a mail server of legitimate mail too (more of its recent reports than the lists allow)';

/**
 * The refusal of a domain more than the lists allow of whose advertising reports are legitimate or
 * authenticated mail (a news site, a software project a spam links to as well): the lists' rule.
 */
const ADVERTISED_IN_LEGITIMATE =
  'advertised in legitimate mail too (more of the reports advertising it than the lists allow)';

/** The refusal of a URL that legitimate mail carries too (see {@link urlCarriers}). */
const CARRIED_BY_LEGITIMATE =
  'a URL legitimate mail carries too (a list’s footer, a newsletter’s page): more of its reports than the lists allow';

/** What the reports' facts say of an origin address: its network, and what it passed on. */
export interface OriginFacts extends AddressNetwork {
  /** Why it is a relay of many senders' mail rather than their source, or null (`relayReason`). */
  relay: string | null;
  /** Live reports in its window, and how many of them were legitimate or authenticated mail. */
  recent: number;
  clean: number;
}

/** Live reports advertising a domain in its window, and how many were legitimate. */
interface Advertisers {
  reports: number;
  clean: number;
}

/** Legitimate or authenticated mail, as the lists' judge counts it (`isClean`); a report never classified is not. */
const CLEAN = sql<boolean>`(coalesce(message_category, '') = 'legitimate' or coalesce(authenticated, 0) = 1)`;
const DAY_MS = 86_400_000;

/** The ISO time `days` before `iso`. */
const daysBefore = (iso: string, days: number) => new Date(Date.parse(iso) - days * DAY_MS).toISOString();

/**
 * `values` (campaign values of one kind) not yet in `memo`, with the last time each was seen: the
 * window a refusal judges a value by ends at its own last sighting, so a refusal does not lapse (and
 * the value come back) while the campaign stays published after its reports grow old.
 */
function pending<T>(values: readonly SourceValue[], memo: ReadonlyMap<string, T>): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    if (memo.has(v.value)) continue;
    const seen = out.get(v.value);
    if (seen === undefined || v.lastSeen > seen) out.set(v.value, v.lastSeen);
  }
  return out;
}

/**
 * Each URL's live reports in the domain window that ends at its last sighting in its campaigns, and how many were
 * legitimate or authenticated mail: the reports whose message carries that very URL (`message_indicators`). A
 * mailing list appends its footer's links to every post, spam included: the list's page is no spammer's. Into
 * `memo`; null for a URL no live report in the window carries. Two index look-ups (URL → messages, messages →
 * reports' facts) and the window in code: joined in one statement, SQLite without statistics planned a scan of
 * every report's facts per URL (90 s to 750 s for one build on the listings evaluation's stream, against 2.6 s for
 * all its sources before).
 */
async function urlCarriers(
  db: Kysely<Database>,
  windowDays: number,
  values: readonly SourceValue[],
  memo: Map<string, Advertisers | null>,
): Promise<void> {
  for (const part of chunks([...pending(values, memo)], CHUNK)) {
    const since = new Map(part.map(([u, last]) => [u, daysBefore(last, windowDays)]));
    const carried = await db
      .selectFrom('message_indicators')
      .select(['value', 'message_sha256'])
      .where('kind', '=', 'url')
      .where(
        'value',
        'in',
        part.map(([u]) => u),
      )
      .execute();
    const urlsOf = new Map<string, string[]>();
    for (const c of carried) urlsOf.set(c.message_sha256, [...(urlsOf.get(c.message_sha256) ?? []), c.value]);
    const tally = new Map<string, Advertisers>();
    for (const shas of chunks([...urlsOf.keys()], 500)) {
      const reports = await db
        .selectFrom('reports as r')
        .innerJoin('action_report_facts as f', 'f.report_id', 'r.id')
        .select([
          'r.message_sha256',
          'f.received_at',
          sql<number | string>`case when ${CLEAN} then 1 else 0 end`.as('clean'),
        ])
        .where('r.message_sha256', 'in', shas)
        .where('f.historical', '=', 0)
        .execute();
      for (const r of reports)
        for (const u of urlsOf.get(r.message_sha256) ?? []) {
          if (r.received_at < (since.get(u) ?? '')) continue;
          const t = tally.get(u) ?? { reports: 0, clean: 0 };
          t.reports++;
          t.clean += Number(r.clean);
          tally.set(u, t);
        }
    }
    for (const [u] of part) memo.set(u, tally.get(u) ?? null);
  }
}

/**
 * Each domain's advertising reports as the lists' domain index holds them (`feed_domain_reports`, kept
 * by the listing service from the reports' facts): in the domain window (`windowDays`) that ends at
 * the domain's last sighting in its campaigns, how many live reports, and how many were legitimate or
 * authenticated mail. Into `memo`; null for a domain the index does not hold (the lists disabled, or
 * all its reports older than the index keeps), which the other rules alone judge.
 */
async function domainAdvertisers(
  db: Kysely<Database>,
  windowDays: number,
  values: readonly SourceValue[],
  memo: Map<string, Advertisers | null>,
): Promise<void> {
  for (const part of chunks([...pending(values, memo)], CHUNK)) {
    const windows = sql.join(part.map(([d, last]) => sql`(${d}, ${daysBefore(last, windowDays)})`));
    const rows = await sql<{ domain: string; reports: number | string; clean: number | string }>`
      with w(domain, since) as (values ${windows})
      select d.domain, count(*) as reports, sum(case when ${CLEAN} then 1 else 0 end) as clean
      from w
      join feed_domain_reports d on d.domain = w.domain and d.received_at >= w.since
      join action_report_facts f on f.report_id = d.report_id
      where f.historical = 0 and (d.named = 0 or ${CLEAN})
      group by d.domain`.execute(db);
    for (const [d] of part) memo.set(d, null);
    for (const r of rows.rows) memo.set(r.domain, { reports: Number(r.reports), clean: Number(r.clean) });
  }
}

/**
 * Each origin address as the reports' facts recorded it, in the lists' infrastructure window
 * (`windowDays`) that ends at the address's last sighting in its campaigns: the reverse name, AS
 * number and name the exclusions judge a shared platform's relay or a brand's server by; whether it
 * passed on spam of many unrelated campaigns (a forwarder, a list server: the lists' rule,
 * `relayReason`), which one campaign's indicator would blame for all the others; how many of its live
 * reports were legitimate or authenticated. Into `memo`; null for an address no facts row in that
 * window names: every report that named it was traced again since (`refresh-facts.ts`) or erased,
 * and the campaign's stored value is stale.
 */
async function originFacts(
  db: Kysely<Database>,
  windowDays: number,
  values: readonly SourceValue[],
  memo: Map<string, OriginFacts | null>,
): Promise<void> {
  for (const part of chunks([...pending(values, memo)], CHUNK)) {
    // The last sighting in the campaign story is when the message joined; its report's facts come
    // after: the window ends a day later.
    const windows = sql.join(
      part.map(([ip, last]) => sql`(${ip}, ${daysBefore(last, windowDays)}, ${daysBefore(last, -1)})`),
    );
    const rows = await sql<{
      origin_ip: string;
      rdns: string | null;
      asn: number | string | null;
      as_name: string | null;
      campaigns: number | string;
      clean: number | string;
      live: number | string;
      dynamic: number | string;
    }>`
      with w(ip, since, until) as (values ${windows})
      select f.origin_ip,
        max(f.origin_rdns) as rdns, max(f.origin_asn) as asn, max(f.origin_as_name) as as_name,
        count(distinct case when f.historical = 0 and not ${CLEAN}
          then coalesce(f.campaign_id, f.message_sha256) end) as campaigns,
        sum(case when f.historical = 0 and ${CLEAN} then 1 else 0 end) as clean,
        sum(case when f.historical = 0 then 1 else 0 end) as live,
        max(case when f.bot_signals like ${`%"${BOT_SIGNALS.DYNAMIC_RDNS}"%`} then 1 else 0 end) as dynamic
      from w
      join action_report_facts f on f.origin_ip = w.ip and f.received_at >= w.since and f.received_at <= w.until
      group by f.origin_ip`.execute(db);
    for (const [ip] of part) memo.set(ip, null);
    for (const r of rows.rows) {
      const network = originNetwork(r.origin_ip, r.rdns, r.as_name, Number(r.dynamic) === 1);
      memo.set(r.origin_ip, {
        rdns: r.rdns,
        asn: r.asn === null ? null : Number(r.asn),
        asName: r.as_name,
        relay: relayReason(network, Number(r.campaigns), Number(r.clean)),
        recent: Number(r.live),
        clean: Number(r.clean),
      });
    }
  }
}

/** Campaigns (of these) with at least one live (not historically imported) report. */
async function liveCampaigns(db: Kysely<Database>, ids: string[]): Promise<Set<string>> {
  const rows = await db
    .selectFrom('campaign_messages as cm')
    .innerJoin('reports as r', 'r.message_sha256', 'cm.sha256')
    .select('cm.campaign_id')
    .distinct()
    .where('cm.campaign_id', 'in', ids)
    .where('r.historical', '=', 0)
    .execute();
  return new Set(rows.map((r) => r.campaign_id));
}

function isEmptyIdentity(i: ReporterIdentity): boolean {
  return i.addresses.length === 0 && i.names.length === 0 && i.numbers.length === 0;
}

/** Every identity of the reporters of each campaign's messages (one query per chunk of campaigns). */
async function campaignReporters(db: Kysely<Database>, ids: string[]): Promise<Map<string, ReporterIdentity>> {
  const rows = await db
    .selectFrom('reports as r')
    .innerJoin('campaign_messages as cm', 'cm.sha256', 'r.message_sha256')
    .select(['cm.campaign_id', 'r.id'])
    .where('cm.campaign_id', 'in', ids)
    .execute();
  const byReport = await identitiesByReport(
    db,
    rows.map((r) => r.id),
  );
  const perCampaign = new Map<string, ReporterIdentity[]>();
  for (const r of rows) {
    const identity = byReport.get(r.id);
    if (!identity || isEmptyIdentity(identity)) continue;
    const list = perCampaign.get(r.campaign_id);
    if (list) list.push(identity);
    else perCampaign.set(r.campaign_id, [identity]);
  }
  return new Map([...perCampaign].map(([id, list]) => [id, mergeIdentities(list)]));
}

/** Values of these campaigns before exclusions: story facts, URLs, authenticated senders. */
async function rawValues(db: Kysely<Database>, ids: string[]): Promise<Map<string, SourceValue[]>> {
  const out = new Map<string, SourceValue[]>();
  const add = (id: string, v: SourceValue) => {
    const l = out.get(id);
    if (l) l.push(v);
    else out.set(id, [v]);
  };
  const facts = await db
    .selectFrom('campaign_facts')
    .select(['campaign_id', 'kind', 'value', 'count', 'first_seen_at', 'last_seen_at'])
    .where('campaign_id', 'in', ids)
    .where('kind', 'in', Object.keys(FACT_KINDS))
    .execute();
  for (const f of facts) {
    const kind = FACT_KINDS[f.kind];
    if (!kind) continue;
    // Wallet facts are `currency:address`.
    const value = kind === 'wallet' ? f.value : f.value.toLowerCase();
    add(f.campaign_id, {
      kind,
      value,
      messages: Number(f.count),
      firstSeen: f.first_seen_at,
      lastSeen: f.last_seen_at,
    });
  }
  // `campaign_messages` first (a CROSS JOIN is SQLite's join-order hint): joined the other way, SQLite without
  // statistics walked every URL indicator of the store for each chunk of campaigns (187 against 15 ms a chunk on
  // the listings evaluation's stream, and growing with the store).
  const urls = await db
    .selectFrom('campaign_messages as cm')
    .crossJoin('message_indicators as mi')
    .whereRef('mi.message_sha256', '=', 'cm.sha256')
    .select([
      'cm.campaign_id',
      'mi.value',
      sql<number>`count(distinct mi.message_sha256)`.as('messages'),
      sql<string>`min(cm.joined_at)`.as('first'),
      sql<string>`max(cm.joined_at)`.as('last'),
    ])
    .where('cm.campaign_id', 'in', ids)
    .where('mi.kind', '=', 'url')
    .groupBy(['cm.campaign_id', 'mi.value'])
    .execute();
  // Who reported the messages carrying each URL (anonymous reports as one): a set read, not one per URL, and only
  // for the campaigns with a URL that more than one message carried (the others are refused for that already).
  const several = [
    ...new Set(urls.filter((u) => Number(u.messages) >= MIN_MESSAGES_FOR_FULL_URL).map((u) => u.campaign_id)),
  ];
  const carriedBy =
    several.length === 0
      ? []
      : await db
          .selectFrom('campaign_messages as cm')
          .crossJoin('message_indicators as mi')
          .innerJoin('reports as r', 'r.message_sha256', 'cm.sha256')
          .whereRef('mi.message_sha256', '=', 'cm.sha256')
          .select([
            'cm.campaign_id',
            'mi.value',
            sql<string>`coalesce(r.reporter_user_id, r.reporter_token_id, lower(r.reporter_address), '')`.as('who'),
          ])
          .distinct()
          .where('cm.campaign_id', 'in', several)
          .where('mi.kind', '=', 'url')
          .execute();
  const reporters = new Map<string, Set<string>>();
  for (const c of carriedBy) {
    const key = `${c.campaign_id}\u0000${c.value}`;
    reporters.set(key, (reporters.get(key) ?? new Set()).add(c.who));
  }
  for (const u of urls)
    add(u.campaign_id, {
      kind: 'url',
      value: u.value,
      messages: Number(u.messages),
      reporters: reporters.get(`${u.campaign_id}\u0000${u.value}`)?.size ?? 0,
      firstSeen: u.first,
      lastSeen: u.last,
    });
  // A sender address is published only from messages whose From was authenticated (aligned SPF,
  // DKIM or DMARC pass): an unauthenticated From may be forged and belong to an innocent party.
  const senders = await db
    .selectFrom('campaign_messages as cm')
    .innerJoin('reports as r', 'r.message_sha256', 'cm.sha256')
    .innerJoin('action_report_facts as f', 'f.report_id', 'r.id')
    .innerJoin('analyses as a', 'a.message_sha256', 'cm.sha256')
    .select([
      'cm.campaign_id',
      'a.from_address',
      sql<number>`count(distinct cm.sha256)`.as('messages'),
      sql<string>`min(cm.joined_at)`.as('first'),
      sql<string>`max(cm.joined_at)`.as('last'),
    ])
    .where('cm.campaign_id', 'in', ids)
    .where('f.authenticated', '=', 1)
    .where('a.from_address', 'is not', null)
    .where('a.error', 'is', null)
    .groupBy(['cm.campaign_id', 'a.from_address'])
    .execute();
  for (const s of senders) {
    if (!s.from_address) continue;
    add(s.campaign_id, {
      kind: 'email',
      value: s.from_address.toLowerCase(),
      messages: Number(s.messages),
      firstSeen: s.first,
      lastSeen: s.last,
    });
  }
  return out;
}
