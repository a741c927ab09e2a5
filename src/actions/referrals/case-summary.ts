/**
 * The case summary an authority reads: timeline, volumes, indicators, trace-back and compliance
 * findings, built from the case's reports, their facts and their analyses. Reporters are not in
 * it: no reporter address, no reporter account; the caller redacts everything taken from the
 * messages (subjects, URLs, senders, phones, steps, the case title) of the reporters' and
 * recipients' identities before it leaves (referrals.ts).
 */
import type { Analysis } from '../../analysis/analysis-schema.ts';
import { actionableOrigin } from '../../analysis/actionable-origin.ts';
import { advertisedUrls } from '../../analysis/advertised.ts';
import { FINDINGS, isFindingCode } from '../../analysis/findings.ts';
import type { CaseRow, ReportFactsRow } from '../../db/actions-tables.ts';

export const SUMMARY_FORMAT = 'spamdesk-case-summary/1';
const MAX_LISTED = 200;

export interface SummaryReport {
  reportId: string;
  sha256: string;
  receivedAt: string;
  channel: string;
}

export interface SummaryInput {
  case: CaseRow;
  authority: { name: string; country: string; competence: string };
  reports: SummaryReport[];
  facts: Map<string, ReportFactsRow>;
  analyses: Map<string, Analysis | null>;
  history: { at: string; kind: string; actor: string }[];
  generatedAt: string;
  instance: { org: string; url: string };
}

function countInto<K>(m: Map<K, number>, k: K, n = 1): void {
  m.set(k, (m.get(k) ?? 0) + n);
}

function top<K>(m: Map<K, number>, n = MAX_LISTED): { value: K; count: number }[] {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([value, count]) => ({ value, count }));
}

/** Actors in the history are staff or rules, never reporters; keep only the kind of actor. */
function actorKind(actor: string): string {
  if (actor.startsWith('rule:')) return actor;
  if (actor.startsWith('user:') || actor.startsWith('token:'))
    return actor.endsWith(':authority') ? 'authority' : 'analyst';
  return 'system';
}

interface OriginTally {
  ip: string;
  asn: number | null;
  asName: string | null;
  country: string | null;
  rdns: string | null;
  reports: number;
  ports: Set<number>;
}

interface MessageTally {
  sha256: string;
  subject: string | null;
  from: string | null;
  date: string | null;
  reports: number;
  origin: string | null;
  traceback: string[];
  findings: string[];
}

/** How often each indicator and finding occurs, one count per distinct message. */
interface IndicatorCounts {
  urls: Map<string, number>;
  domains: Map<string, number>;
  // Hosts the reader's client contacts by itself (images, CSS, pixels): listed apart, since they are
  // often shared infrastructure (a CDN, an image host) rather than what the spam advertises.
  resources: Map<string, number>;
  resourceHosts: Map<string, number>;
  // Addresses an HTML part only writes in its text while its links go elsewhere (`advertised.ts`): a
  // phish's list of the real banks, a brand's legal footer. Listed apart: not what the spam advertises.
  mentions: Map<string, number>;
  mentionedDomains: Map<string, number>;
  phones: Map<string, number>;
  wallets: Map<string, number>;
  senders: Map<string, number>;
  findings: Map<string, number>;
}

interface Tally {
  byDay: Map<string, number>;
  byChannel: Map<string, number>;
  origins: Map<string, OriginTally>;
  messages: Map<string, MessageTally>;
  counts: IndicatorCounts;
}

function countIndicators(a: Analysis, c: IndicatorCounts): void {
  const sends = new Set(advertisedUrls(a));
  for (const u of a.indicators.urls) {
    if (u.role === 'resource') {
      countInto(c.resources, u.url);
      countInto(c.resourceHosts, u.host);
      continue;
    }
    if (!sends.has(u)) {
      countInto(c.mentions, u.url);
      if (u.registrableDomain) countInto(c.mentionedDomains, u.registrableDomain);
      continue;
    }
    countInto(c.urls, u.url);
    if (u.registrableDomain) countInto(c.domains, u.registrableDomain);
  }
  for (const p of a.indicators.phones) countInto(c.phones, p.e164);
  for (const w of a.indicators.wallets) countInto(c.wallets, `${w.currency}:${w.address}`);
  if (a.indicators.sender.from) countInto(c.senders, a.indicators.sender.from);
  for (const code of new Set(a.findings.map((x) => x.code))) countInto(c.findings, code);
}

/** Gathers what the summary counts: reports per day and channel, origins, distinct messages and their indicators. */
function tallyReports(input: SummaryInput): Tally {
  const t: Tally = {
    byDay: new Map(),
    byChannel: new Map(),
    origins: new Map(),
    messages: new Map(),
    counts: {
      urls: new Map(),
      domains: new Map(),
      resources: new Map(),
      resourceHosts: new Map(),
      mentions: new Map(),
      mentionedDomains: new Map(),
      phones: new Map(),
      wallets: new Map(),
      senders: new Map(),
      findings: new Map(),
    },
  };
  for (const r of input.reports) {
    countInto(t.byDay, r.receivedAt.slice(0, 10));
    countInto(t.byChannel, r.channel);
    const f = input.facts.get(r.reportId);
    if (f?.origin_ip) {
      const o = t.origins.get(f.origin_ip) ?? {
        ip: f.origin_ip,
        asn: f.origin_asn,
        asName: f.origin_as_name,
        country: f.origin_country,
        rdns: f.origin_rdns,
        reports: 0,
        ports: new Set<number>(),
      };
      o.reports++;
      if (f.origin_port) o.ports.add(f.origin_port);
      t.origins.set(f.origin_ip, o);
    }
    const seen = t.messages.get(r.sha256);
    if (seen) {
      seen.reports++;
      continue;
    }
    const a = input.analyses.get(r.sha256) ?? null;
    t.messages.set(r.sha256, {
      sha256: r.sha256,
      subject: a?.parse.subject ?? null,
      from: a?.indicators.sender.from ?? null,
      date: a?.parse.date?.iso ?? null,
      reports: 1,
      // The receiving side's own machine is no origin to name to an authority (`actionable-origin.ts`).
      origin: a ? (actionableOrigin(a.traceback)?.ip ?? null) : null,
      traceback: (a?.traceback.steps ?? []).slice(0, 30),
      findings: (a?.findings ?? []).map((x) => x.code),
    });
    if (a) countIndicators(a, t.counts);
  }
  return t;
}

/** Builds the summary from the tally; the key order is the order of summary.json. */
export function buildCaseSummary(input: SummaryInput) {
  const { byDay, byChannel, origins, messages, counts } = tallyReports(input);
  const { urls, domains, resources, resourceHosts, mentions, mentionedDomains, phones, wallets, senders, findings } =
    counts;
  const times = input.reports.map((r) => r.receivedAt).sort();
  const firstReportedAt: string | null = times.length > 0 ? times[0] : null;
  const lastReportedAt: string | null = times.length > 0 ? times[times.length - 1] : null;
  return {
    format: SUMMARY_FORMAT,
    generatedAt: input.generatedAt,
    instance: input.instance,
    case: {
      id: input.case.id,
      title: input.case.title,
      target: { kind: input.case.target_kind, value: input.case.target_value },
      category: input.case.category,
      state: input.case.state,
      openedAt: input.case.created_at,
      openedBy: actorKind(input.case.opened_by),
    },
    authority: input.authority,
    volumes: {
      reports: input.reports.length,
      distinctMessages: messages.size,
      firstReportedAt,
      lastReportedAt,
      byDay: [...byDay.entries()].sort().map(([day, count]) => ({ day, count })),
      byChannel: top(byChannel),
    },
    timeline: [
      ...input.history.map((h) => ({ at: h.at, event: h.kind, by: actorKind(h.actor) })),
      ...(times[0] ? [{ at: times[0], event: 'first-report', by: 'reporters' }] : []),
      ...(times.length > 1 ? [{ at: times[times.length - 1], event: 'latest-report', by: 'reporters' }] : []),
    ].sort((x, y) => x.at.localeCompare(y.at)),
    indicators: {
      urls: top(urls),
      domains: top(domains),
      resources: top(resources),
      resourceHosts: top(resourceHosts),
      mentions: top(mentions),
      mentionedDomains: top(mentionedDomains),
      phones: top(phones),
      wallets: top(wallets),
      senders: top(senders),
    },
    traceback: [...origins.values()]
      .sort((a, b) => b.reports - a.reports)
      .slice(0, MAX_LISTED)
      .map((o) => ({
        ip: o.ip,
        asn: o.asn,
        asName: o.asName,
        country: o.country,
        rdns: o.rdns,
        reports: o.reports,
        sourcePorts: [...o.ports],
      })),
    findings: top(findings).map((f) => ({
      code: f.value,
      count: f.count,
      severity: isFindingCode(f.value) ? FINDINGS[f.value].severity : 'info',
      meaning: isFindingCode(f.value) ? FINDINGS[f.value].meaning : '',
    })),
    messages: [...messages.values()].slice(0, 1000),
  };
}

export type CaseSummary = ReturnType<typeof buildCaseSummary>;
